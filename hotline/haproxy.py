"""`hotline haproxy-config`: HAProxy in front of the call workers, rendered from `ivr.workers`.

Asterisk opens one WebSocket per call to the front; HAProxy gives it to the worker with the fewest
connections (leastconn: a WebSocket is a whole call) among those whose /healthz says 200. A worker that
refuses the connection, or answers 503 (draining), is skipped and another one tried at once, so a
caller is never sent to a worker that cannot take the call.
"""

from __future__ import annotations

from asterisk.workers import WorkersSettings

# A call's WebSocket lasts as long as the call: the tunnel timeout only ends sockets silent this long
# (the worker pings every 10 s, so a live call is never cut by it).
TUNNEL_TIMEOUT = "1h"


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def haproxy_config(workers: WorkersSettings, *, pid_file: str = "") -> str:
    """haproxy.cfg for the front and the worker backend (no privileges needed: no chroot, no user)."""
    inter = workers.health_interval_ms
    servers = "\n".join(
        f"    server worker{n} {backend} check" for n, backend in enumerate(workers.worker_backends, 1)
    )
    pid = f"    pidfile {pid_file}\n" if pid_file else ""
    return f"""# Rendered by `hotline haproxy-config` from ivr.workers (config/hotline.yaml).
global
    maxconn 4096
{pid}
defaults
    mode http
    # A worker on this network answers a connection in milliseconds; Asterisk gives up on a call's
    # connection after ivr.workers.connection_timeout_ms ({workers.connection_timeout_ms} ms).
    timeout connect 300ms
    timeout http-request 5s
    timeout client 30s
    timeout server 30s
    timeout tunnel {TUNNEL_TIMEOUT}
    timeout client-fin 5s
    timeout server-fin 5s
    # A worker that refuses the connection or says 503 (draining, starting): try another one.
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response 503

frontend hotline-calls
    bind {_bind(workers.front_address, workers.front_port)}
    default_backend hotline-workers

backend hotline-workers
    balance leastconn
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host hotline-worker
    http-check expect status 200
    # A dead or draining worker is out after two failed checks; a restarted one is in after one.
    default-server inter {inter} fastinter {max(inter // 2, 100)} downinter {inter} fall 2 rise 1
{servers}
"""
