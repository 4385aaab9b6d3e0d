"""The dashboard's web app (Starlette, server-rendered jinja2, a little vanilla JavaScript).

    app = create_app(home, token)     # served by `magnet ui` with uvicorn on 127.0.0.1

Every request needs the access token: `?token=` once (it becomes an HttpOnly, SameSite=Strict
cookie, as Jupyter does), the cookie, or `Authorization: Bearer`. A request that changes
something (answer a card, resume) also carries a form token derived from it (an HMAC, so the
page never holds the access token itself), which a page on another site cannot know.
Templates escape everything; user text is never markup. Handlers run one at a time on the
server's event loop: a local dashboard has one user, and matplotlib is not thread-safe.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from magnet.agent.ui import actions, plots
from magnet.agent.ui.views import STATUS, Board
from magnet.tools.errors import AlreadyAnswered, MagnetError, SessionNotFound

HERE = Path(__file__).parent
COOKIE = "magnet_token"
# Messages a redirect may name; the page never echoes text from the address bar.
NOTICES = {
    "answered": "Answered: the session continues in the background.",
    "resumed": "Resumed: the session continues in the background.",
}


def create_app(home: Path, token: str) -> Starlette:
    board = Board(home)
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    templates.filters["num"] = _num

    csrf = form_token(token)

    def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        html = templates.get_template(name).render(csrf=csrf, request=request, **context)
        return HTMLResponse(html, status_code=status)

    async def sessions(request: Request) -> Response:
        return page(request, "sessions.html.j2", rows=board.rows())

    async def session(request: Request) -> Response:
        sid = request.path_params["sid"]
        notice = NOTICES.get(request.query_params.get("notice", ""))
        return page(request, "session.html.j2", view=board.session(sid), notice=notice)

    async def panel(request: Request) -> Response:
        """The parts of the session page that change with its status (card, table, report)."""
        return page(request, "panel.html.j2", view=board.session(request.path_params["sid"]))

    async def events(request: Request) -> Response:
        sid = request.path_params["sid"]
        after = _int(request.query_params.get("after", "0"))
        status = board.store.session(sid).status
        found = board.store.events(sid, after=after)
        return JSONResponse(
            {
                "status": STATUS.get(status, status),
                "events": [
                    {"id": e.id, "ts": e.ts, "node": e.node, "kind": e.kind, "text": e.text}
                    for e in found
                ],
            }
        )

    async def compute_svg(request: Request) -> Response:
        sid = request.path_params["sid"]
        return _svg(plots.compute(board, sid))

    async def curve_svg(request: Request) -> Response:
        sid, n = request.path_params["sid"], request.path_params["n"]
        return _svg(plots.curve(board, sid, n))

    async def verify(request: Request) -> Response:
        sid = request.path_params["sid"]
        checks, problem = actions.verify(board, sid)
        return page(request, "verify.html.j2", sid=sid, checks=checks, problem=problem)

    async def answer(request: Request) -> Response:
        sid = request.path_params["sid"]
        form = await _form(request, csrf)
        actions.answer(board, sid, dict(form))
        return RedirectResponse(f"/sessions/{sid}?notice=answered", status_code=303)

    async def resume(request: Request) -> Response:
        sid = request.path_params["sid"]
        await _form(request, csrf)
        actions.resume(board, sid)
        return RedirectResponse(f"/sessions/{sid}?notice=resumed", status_code=303)

    def problem(request: Request, status: int, message: str) -> Response:
        if request.url.path.endswith((".svg", "/events")):
            return Response(message, status_code=status, media_type="text/plain")
        return page(request, "problem.html.j2", status=status, message=message)

    async def not_found(request: Request, exc: Exception) -> Response:
        return problem(request, 404, str(exc))

    async def conflict(request: Request, exc: Exception) -> Response:
        return problem(request, 409, str(exc))

    async def refused(request: Request, exc: Exception) -> Response:
        return problem(request, 400, str(exc))

    async def forbidden(request: Request, exc: Exception) -> Response:
        return problem(request, 403, "refused: the form did not carry the access token")

    async def failed(request: Request, exc: Exception) -> Response:
        return problem(request, 500, f"the dashboard could not do that: {type(exc).__name__}")

    routes = [
        Route("/", sessions),
        Route("/sessions/{sid}", session),
        Route("/sessions/{sid}/panel", panel),
        Route("/sessions/{sid}/events", events),
        Route("/sessions/{sid}/compute.svg", compute_svg),
        Route("/sessions/{sid}/experiments/{n:int}/curve.svg", curve_svg),
        Route("/sessions/{sid}/verify", verify),
        Route("/sessions/{sid}/answer", answer, methods=["POST"]),
        Route("/sessions/{sid}/resume", resume, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    handlers = {
        SessionNotFound: not_found,
        AlreadyAnswered: conflict,
        MagnetError: refused,
        PermissionError: forbidden,
        Exception: failed,
    }
    auth = Middleware(BaseHTTPMiddleware, dispatch=_token_check(token))
    return Starlette(routes=routes, middleware=[auth], exception_handlers=handlers)


def _token_check(token: str):
    async def dispatch(request: Request, call_next) -> Response:
        given = request.query_params.get("token")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        presented = given or request.cookies.get(COOKIE) or bearer
        if not (presented and hmac.compare_digest(presented, token)):
            return Response(
                "refused: this dashboard needs the access token that `magnet ui` printed "
                "(open the URL with ?token=...)",
                status_code=403,
                media_type="text/plain",
            )
        response = await call_next(request)
        if given:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    return dispatch


def form_token(token: str) -> str:
    return hmac.new(token.encode(), b"magnet-ui-form", hashlib.sha256).hexdigest()


async def _form(request: Request, csrf: str):
    """The posted form, refused unless it carries the form token (no cross-site posts)."""
    form = await request.form()
    if not hmac.compare_digest(str(form.get("csrf", "")), csrf):
        raise PermissionError("form without the access token")
    return form


def _svg(text: str) -> Response:
    return Response(text, media_type="image/svg+xml")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise MagnetError(f"'{text}' is not a number") from None


def _num(value, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)
