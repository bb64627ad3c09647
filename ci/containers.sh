# ci/containers.sh — sourced by the scripts that start containers and a fake
# GitHub (ci/container-tests.sh, ci/workshop.sh): one place that cleans up
# whatever they started, however they end.
#
#   CONTAINER_LABEL=io.contributors.test=1   # before sourcing: tags each container
#   . ci/containers.sh
#   start NAME ARGS...                        # docker run -d, removed on exit
#   FAKE_PID=$!                               # a background fake-github, killed on exit
#   "$TMP"                                    # a scratch directory, removed on exit

TMP=$(mktemp -d)
CONTAINERS=()
FAKE_PID=""

cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null || true; wait "$FAKE_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME ARGS...: docker run -d, remembered for cleanup.
start() {
  local name=$1; shift
  docker rm -f "$name" >/dev/null 2>&1 || true
  CONTAINERS+=("$name")
  docker run -d --name "$name" --label "${CONTAINER_LABEL:-io.contributors.test=1}" "$@" >/dev/null
}
