//! The options of the list routes, documented once: the page's Embed box
//! renders this table, and the README holds the same table as Markdown
//! ([`markdown_table`]). `tests/app/options.rs` checks the README's copy, and
//! that each option listed is read, and checked, by the routes it names.

/// One query option of the page, the wall or the JSON list.
pub struct ListOption {
    pub name: &'static str,
    /// The values it takes, and its default.
    pub values: &'static str,
    /// Which answers read it: `page`, `wall`, `JSON` (a wall and a JSON
    /// list across repositories read those of a wall and a JSON list), or
    /// `across` (only those across repositories).
    pub on: &'static str,
    pub does: &'static str,
    /// A value it refuses with a 400, for the test that it is read.
    pub bad: &'static str,
}

/// Every option, in the order the table shows them.
pub const LIST_OPTIONS: [ListOption; 10] = [
    ListOption {
        name: "max",
        values: "1 to 500; 100",
        on: "page, wall, JSON",
        does: "how many of the list to show, most contributions first",
        bad: "0",
    },
    ListOption {
        name: "anon",
        values: "0 or 1; 0",
        on: "wall, JSON",
        does: "count commit e-mail addresses without an account (grey discs on a wall)",
        bad: "2",
    },
    ListOption {
        name: "bots",
        values: "0 or 1; 0",
        on: "page, wall, JSON",
        does: "show accounts of type Bot, left out by default",
        bad: "2",
    },
    ListOption {
        name: "exclude",
        values: "up to 20 logins, comma-separated",
        on: "page, wall, JSON",
        does: "leave these accounts out",
        bad: "a/b",
    },
    ListOption {
        name: "columns",
        values: "1 to 50; 12",
        on: "wall",
        does: "avatars a row",
        bad: "0",
    },
    ListOption {
        name: "size",
        values: "1 to 512, snapped to 32, 48, 64 or 96; 64",
        on: "wall",
        does: "avatar size in pixels",
        bad: "0",
    },
    ListOption {
        name: "names",
        values: "0 or 1; 0",
        on: "wall",
        does: "write each login under its avatar",
        bad: "2",
    },
    ListOption {
        name: "theme",
        values: "light or dark; light",
        on: "wall",
        does: "colours of names, grey discs and error images",
        bad: "blue",
    },
    ListOption {
        name: "repos",
        values: "up to 20 owner/repo, comma-separated",
        on: "across",
        does: "one wall or list across these repositories, contributions summed",
        bad: "a",
    },
    ListOption {
        name: "owner",
        values: "an owner's name",
        on: "across",
        does: "the same across its 10 most recently pushed repositories that are not forks",
        bad: "-a",
    },
];

/// The table as Markdown, as the README has it.
pub fn markdown_table() -> String {
    let mut table =
        String::from("| option | values; default | on | what it does |\n|---|---|---|---|\n");
    for option in &LIST_OPTIONS {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            option.name, option.values, option.on, option.does
        ));
    }
    table
}
