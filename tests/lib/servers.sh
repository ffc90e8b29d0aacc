# servers.sh - test servers on 127.0.0.1, sourced by the device-side cases
# (tests/verify/run-case.sh) and the attack cases (tests/attack/cases/*.sh).
#
# Needs from the caller: W (a work directory for logs and port files), fail (ends the
# test with a message). tftpd_start serves $TFTP. Every server started here is stopped
# by servers_stop_all (call it from the caller's EXIT trap).
SERVER_PIDS=()
SERVERS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

servers_stop_all() {
  local p
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  SERVER_PIDS=()
}

free_port() { # $1: udp|tcp
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
PY
}

# tftpd_start: a real tftpd-hpa serving $TFTP on a free high port; sets SERVER (and
# TFTPD_PID). It answers file-not-found for what $TFTP lacks: in the attack cases it is
# the rogue server on the phone's network.
tftpd_start() {
  local port pid i hex
  chmod -R a+rX "$TFTP"
  for i in 1 2 3 4 5; do
    port=$(free_port udp)
    /usr/sbin/in.tftpd --foreground --listen --address "127.0.0.1:$port" --secure "$TFTP" \
      2>>"$W/tftpd.log" &
    pid=$!
    # Ready once the socket is bound (/proc/net/udp lists 127.0.0.1:port, in hex): a
    # loaded machine may take longer than any fixed sleep.
    hex=$(printf '0100007F:%04X' "$port")
    local deadline=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$deadline" ]; do
      if grep -q " $hex " /proc/net/udp; then
        SERVER_PIDS+=("$pid"); SERVER=127.0.0.1:$port; TFTPD_PID=$pid; return 0
      fi
      kill -0 "$pid" 2>/dev/null || break # exited (another process took the port): next port
      sleep 0.1
    done
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  fail "in.tftpd did not start: $(cat "$W/tftpd.log")"
}
tftpd_stop() { kill "$TFTPD_PID" 2>/dev/null; wait "$TFTPD_PID" 2>/dev/null; }

# hostile_tftpd MODE FILE: tests/verify/hostile-tftpd.py (endless|stall); sets SERVER.
hostile_tftpd() {
  local pf=$W/hostile.port
  rm -f "$pf"
  python3 "$SERVERS_LIB_DIR/../verify/hostile-tftpd.py" "$pf" "$1" "$2" 2>>"$W/hostile.log" &
  local pid=$! deadline=$((SECONDS + 30))
  SERVER_PIDS+=("$pid")
  # Ready once it wrote its bound port; it failed only if it exited (or 30 s passed).
  while [ ! -s "$pf" ] && [ "$SECONDS" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
  done
  [ -s "$pf" ] || fail "hostile-tftpd.py did not start: $(cat "$W/hostile.log")"
  SERVER=127.0.0.1:$(cat "$pf")
}

# tls_server CERT KEY: openssl s_server on a free port; sets TLS_SERVER.
tls_server() {
  local port pid i
  for i in 1 2 3 4 5; do
    port=$(free_port tcp)
    openssl s_server -accept "127.0.0.1:$port" -cert "$1" -key "$2" -quiet -naccept 10 \
      </dev/null >>"$W/s_server.log" 2>&1 &
    pid=$!
    # Ready once the port is listening (/proc/net/tcp, state 0A): no probe connection,
    # which would use up one of -naccept's accepts.
    local hex deadline=$((SECONDS + 30))
    hex=$(printf '0100007F:%04X' "$port")
    while [ "$SECONDS" -lt "$deadline" ]; do
      if grep -q " $hex 00000000:0000 0A " /proc/net/tcp; then
        SERVER_PIDS+=("$pid"); TLS_SERVER=127.0.0.1:$port; return 0
      fi
      kill -0 "$pid" 2>/dev/null || break # exited (port taken?): next port
      sleep 0.1
    done
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  fail "openssl s_server did not start: $(cat "$W/s_server.log")"
}
