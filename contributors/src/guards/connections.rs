//! Who holds the connection slots: a cap per client, and room made by
//! closing the connection idle the longest.
//!
//! The server has `max_connections` slots. Two ways to take them all
//! cheaply, and what stops each:
//!
//! - **Many connections from one client.** Each client (an IPv4 address or
//!   an IPv6 /64, as for the lookup budget) may hold at most `per_client`
//!   connections at once; more are turned away with a 503. Peers that are
//!   trusted proxies are exempt: all their visitors share their address.
//!   A browser opens six connections per site, so the default leaves room
//!   for a room of people behind one NAT address; 0 turns the cap off.
//! - **Idle keep-alive connections.** A client may keep a connection open
//!   between requests (up to the idle timeout), and a few clients with one
//!   cheap request each per timeout can hold every slot. So, as nginx does,
//!   a full server closes the connection that has been idle the longest to
//!   admit a new one ([`Connections::close_idlest`]). A connection with
//!   a request in hand, even partly read, is never chosen.
//!
//! The table is touched when a connection opens and closes, never per
//! request: a connection's phase and idle time are read from its
//! [`Activity`], which its own task keeps up to date.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::guards::client_budget::client_key;
use crate::guards::timed_stream::Activity;

/// The open connections, and how many each client holds.
pub struct Connections {
    per_client: usize,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Open>,
    by_client: HashMap<IpAddr, usize>,
}

struct Open {
    activity: Activity,
    close: Arc<CloseSignal>,
}

/// "Close this connection": set once, by a full server.
#[derive(Default)]
struct CloseSignal {
    asked: AtomicBool,
    notify: Notify,
}

/// One open connection's place in the table; dropping it gives the place
/// (and its client's count) back.
pub struct Ticket {
    connections: Arc<Connections>,
    id: u64,
    /// `None` for an exempt peer.
    client: Option<IpAddr>,
    close: Arc<CloseSignal>,
}

/// The client holds `per_client` connections already.
#[derive(Debug, PartialEq, Eq)]
pub struct TooMany;

impl Connections {
    /// `per_client`: connections one client may hold at once; 0 for no cap.
    pub fn new(per_client: usize) -> Arc<Connections> {
        Arc::new(Connections {
            per_client,
            table: Mutex::new(Table::default()),
        })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Enters a connection from `client` (`exempt`: a trusted proxy, not
    /// counted against a cap), unless the client holds its cap already.
    pub fn open(
        self: &Arc<Self>,
        client: IpAddr,
        exempt: bool,
        activity: Activity,
    ) -> Result<Ticket, TooMany> {
        let client = (!exempt && self.per_client > 0).then(|| client_key(client));
        let mut table = self.table();
        if let Some(client) = client {
            let held = table.by_client.entry(client).or_insert(0);
            if *held >= self.per_client {
                return Err(TooMany);
            }
            *held += 1;
        }
        let id = table.next_id;
        table.next_id += 1;
        let close = Arc::new(CloseSignal::default());
        let open = Open {
            activity,
            close: close.clone(),
        };
        table.open.insert(id, open);
        Ok(Ticket {
            connections: self.clone(),
            id,
            client,
            close,
        })
    }

    /// Asks the connection idle the longest to close, to free its slot.
    /// False when no connection is idle.
    pub fn close_idlest(&self) -> bool {
        let table = self.table();
        let idlest = (table.open.values())
            .filter(|open| !open.close.asked.load(Relaxed))
            .filter_map(|open| Some((open.activity.idle_since()?, open)))
            .min_by_key(|(since, _)| *since);
        match idlest {
            Some((_, open)) => {
                open.close.asked.store(true, Relaxed);
                open.close.notify.notify_one();
                true
            }
            None => false,
        }
    }
}

impl Ticket {
    /// Resolves once the server wants this connection closed to make room.
    pub async fn closing(&self) {
        self.close.notify.notified().await;
    }

    /// Whether the server has asked: a plain read, for a task to check on
    /// each wake-up instead of polling [`closing`](Self::closing) again.
    pub fn asked_to_close(&self) -> bool {
        self.close.asked.load(Relaxed)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut table = self.connections.table();
        table.open.remove(&self.id);
        if let Some(client) = self.client
            && let Some(held) = table.by_client.get_mut(&client)
        {
            *held -= 1;
            if *held == 0 {
                table.by_client.remove(&client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::guards::timed_stream::{Deadlines, TimedStream};

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// The server's end of a real loopback connection, and its activity
    /// (the client's end is returned to keep it open).
    async fn connection() -> (TimedStream, Activity, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        let long = Duration::from_secs(60);
        let deadlines = Deadlines {
            head: long,
            idle: long,
            write: long,
        };
        let (stream, activity) = TimedStream::new(accepted.unwrap().0, deadlines);
        (stream, activity, client.unwrap())
    }

    /// Serves a request on `stream`: it is then idle between requests.
    async fn answer(stream: &mut TimedStream, activity: &Activity) {
        activity.request_started();
        activity.response_ready();
        stream.flush().await.unwrap();
        assert!(activity.idle_since().is_some());
    }

    /// Whether `ticket` has been told to close (without waiting for it).
    async fn told_to_close(ticket: &Ticket) -> bool {
        let told = tokio::time::timeout(Duration::ZERO, ticket.closing()).await;
        assert_eq!(told.is_ok(), ticket.asked_to_close());
        told.is_ok()
    }

    #[tokio::test]
    async fn a_client_holds_at_most_its_cap_and_a_closed_connection_frees_a_place() {
        let connections = Connections::new(2);
        let (_stream, activity, _client) = connection().await;
        let open = |client| connections.open(ip(client), false, activity.clone());
        let first = open("192.0.2.1").unwrap();
        let _second = open("192.0.2.1").unwrap();
        assert!(matches!(open("192.0.2.1"), Err(TooMany)));
        let _other = open("192.0.2.2").unwrap();
        // An IPv6 /64 is one client.
        let _v6 = [open("2001:db8::1").unwrap(), open("2001:db8::2").unwrap()];
        assert!(matches!(open("2001:db8::3"), Err(TooMany)));
        // One closed, one more, and no more than that.
        drop(first);
        let _third = open("192.0.2.1").unwrap();
        assert!(matches!(open("192.0.2.1"), Err(TooMany)));
    }

    #[tokio::test]
    async fn trusted_proxies_and_an_uncapped_server_count_nobody() {
        let (_stream, activity, _client) = connection().await;
        let capped = Connections::new(1);
        let proxied: Vec<Ticket> = (0..5)
            .map(|_| capped.open(ip("10.0.0.1"), true, activity.clone()).unwrap())
            .collect();
        // The proxy's own connections do not count against its address.
        let own = capped.open(ip("10.0.0.1"), false, activity.clone());
        assert!(own.is_ok());
        let uncapped = Connections::new(0);
        let many: Vec<Ticket> = (0..5)
            .map(|_| {
                uncapped
                    .open(ip("192.0.2.1"), false, activity.clone())
                    .unwrap()
            })
            .collect();
        assert_eq!((proxied.len(), many.len()), (5, 5));
    }

    #[tokio::test]
    async fn a_full_server_closes_the_idlest_connection_never_a_busy_one() {
        let connections = Connections::new(0);
        let mut held = Vec::new();
        for _ in 0..3 {
            let (mut stream, activity, client) = connection().await;
            answer(&mut stream, &activity).await;
            let ticket = connections.open(ip("192.0.2.1"), false, activity.clone());
            held.push((ticket.unwrap(), stream, activity, client));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The newest is busy with its next request.
        held[2].2.request_started();
        for ticket in held.iter().map(|h| &h.0) {
            assert!(!told_to_close(ticket).await);
        }
        // The idlest first, then the next; never the busy one, nor one
        // asked already.
        assert!(connections.close_idlest());
        assert!(told_to_close(&held[0].0).await);
        assert!(!told_to_close(&held[1].0).await);
        assert!(connections.close_idlest());
        assert!(told_to_close(&held[1].0).await);
        assert!(!connections.close_idlest());
        assert!(!told_to_close(&held[2].0).await);
    }
}
