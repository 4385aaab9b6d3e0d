"""`magnet ui`: the dashboard on 127.0.0.1, with an access token in the URL it prints."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from typing import Annotated

import typer

from magnet.tools import console
from magnet.tools.errors import ConfigError


def ui_command(
    port: Annotated[int, typer.Option(min=0, max=65535, help="0: any free port")] = 8765,
    host: Annotated[
        str, typer.Option(help="address to listen on; anything but loopback needs --token")
    ] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="MAGNET_UI_TOKEN",
            help="the access token (default: a random one, printed in the URL)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the web dashboard: sessions, the live trace, the review inbox, curves.

    Sessions started from the CLI appear on it; a card answered on the page is answered
    everywhere (and the other way round). Open the printed URL; requests without its token
    are refused. Ctrl-C stops the dashboard, not the sessions.
    """
    import uvicorn

    from magnet.agent.ui.app import create_app
    from magnet.tools.paths import magnet_home

    if not _loopback(host):
        if not token:
            raise ConfigError(
                f"--host {host} would let other machines reach the dashboard: "
                "set --token (or $MAGNET_UI_TOKEN) to allow it"
            )
        console.warning(
            f"listening on {host}: anyone who can reach it and has the token can review"
        )
    token = token or secrets.token_urlsafe(24)
    sock = _bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    console.out.print(
        f"MAGNET dashboard: http://{shown}:{sock.getsockname()[1]}/?token={token}",
        highlight=False,
        soft_wrap=True,
    )
    config = uvicorn.Config(create_app(magnet_home(), token), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.listen(64)
    return sock
