"""The `viva` command: serve, migrate, admin tasks on workspaces, users and keys, simulate and demo."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from viva import quickstart
from viva.config import Settings, get_settings

# Plain tracebacks: rich ones print local variables, which can hold secrets.
app = typer.Typer(
    help="Viva: self-hostable AI interviews.", no_args_is_help=True, pretty_exceptions_enable=False
)
workspaces_app = typer.Typer(help="Workspaces.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
users_app = typer.Typer(help="Dashboard users.", no_args_is_help=True)
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)
T = TypeVar("T")


def _in_transaction(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(db)` in one transaction on the configured database; API errors exit 1."""
    from viva.db import make_engine, make_sessionmaker
    from viva.errors import ApiError

    async def run() -> T:
        engine = make_engine(get_settings().database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                result = await work(db)
                await db.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except ApiError as exc:
        issues = exc.extra.get("issues") or []
        detail = "; ".join(f"{'.'.join(map(str, i['path']))}: {i['message']}" for i in issues)
        err.print(f"error: {exc.message}" + (f" ({detail})" if detail else ""))
        raise typer.Exit(1) from None


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema."""
    from viva import schema

    schema.upgrade(get_settings().database_url)
    console.print(f"database at {schema.head_revision()}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """Migrate, create the first workspace on first start, then serve API and dashboard."""
    import uvicorn

    from viva import bootstrap, schema
    from viva.app import create_app

    settings = get_settings()
    schema.upgrade(settings.database_url)
    first = _in_transaction(bootstrap.on_start)
    if first is not None:
        console.print("\n[bold]Viva is set up.[/bold] This is shown once; keep it somewhere safe.\n")
        console.print(f"  Workspace : {bootstrap.DEFAULT_SLUG}")
        console.print(f"  Sign in   : {first.email} / {first.password}")
        console.print(f"  API key   : {first.api_key}\n")
    console.print(f"Viva on http://{host}:{port}  (API docs: http://{host}:{port}/api/v1/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, **server_options(settings))


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for `viva serve`. Forwarded headers only from VIVA_TRUSTED_PROXIES:
    uvicorn's own default believes any peer on 127.0.0.1, so anything on the host (or a proxy
    that passes X-Forwarded-For through) could pick the client address the sign-in throttle
    counts by."""
    proxies = settings.trusted_proxy_list
    return {
        "log_level": settings.log_level,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or "",
    }


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once (default: VIVA_WORKER_CONCURRENCY)")
    ] = None,
) -> None:
    """Run a job worker alone (as many as you like against one PostgreSQL). SIGTERM or
    Ctrl-C stops it after its running jobs finish."""
    import signal

    from viva.app import create_app, make_worker

    settings = get_settings()

    async def run() -> None:
        application = create_app(settings)
        w = make_worker(application, **({"concurrency": concurrency} if concurrency else {}))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, w.stop)
        try:
            await w.run()
        finally:
            await w.context.http.aclose()
            await application.state.engine.dispose()

    asyncio.run(run())


@workspaces_app.command("credits")
def workspaces_credits(
    slug: str,
    set_: Annotated[
        int | None, typer.Option("--set", help="Switch to the credits plan with N credits")
    ] = None,
    unlimited: Annotated[bool, typer.Option("--unlimited", help="No credit accounting")] = False,
    no_plan: Annotated[
        bool, typer.Option("--no-plan", help="No active plan: scheduling answers 402")
    ] = False,
) -> None:
    """Show or change a workspace's plan and session credits."""
    from viva.workspaces import service

    if sum([set_ is not None, unlimited, no_plan]) > 1:
        err.print("error: choose one of --set, --unlimited, --no-plan")
        raise typer.Exit(2)

    async def work(db: Any) -> tuple[str, int]:
        if set_ is not None:
            ws = await service.set_plan(db, slug, "credits", set_)
        elif unlimited:
            ws = await service.set_plan(db, slug, "unlimited")
        elif no_plan:
            ws = await service.set_plan(db, slug, "none")
        else:
            ws = await service.get_workspace(db, slug)
        return ws.plan, ws.credits

    plan, credits = _in_transaction(work)
    console.print(f"{slug}: plan {plan}" + (f", {credits} credits" if plan == "credits" else ""))


@workspaces_app.command("create")
def workspaces_create(
    slug: str, name: Annotated[str, typer.Option("--name", help="Display name")] = ""
) -> None:
    """Create a workspace."""
    from viva.workspaces import service

    async def work(db: Any) -> str:
        return (await service.create_workspace(db, slug, name or slug)).slug

    console.print(f"created workspace {_in_transaction(work)}")


@keys_app.command("create")
def keys_create(
    workspace: Annotated[str, typer.Option("--workspace", help="Workspace slug")],
    name: Annotated[str, typer.Option("--name", help="A label for the key")] = "",
    scope: Annotated[list[str] | None, typer.Option("--scope", help="Repeat; default: every scope")] = None,
) -> None:
    """Create an API key. The key is printed once, alone on the last line."""
    from viva.auth import service as auth_service
    from viva.workspaces import service

    async def work(db: Any) -> tuple[str, list[str]]:
        ws = await service.get_workspace(db, workspace)
        key, secret = await auth_service.create_api_key(db, ws, name, scope or None)
        return secret, key.scopes

    secret, scopes = _in_transaction(work)
    console.print(f"scopes: {' '.join(scopes)}")
    print(secret)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="Key id or its displayed prefix")]) -> None:
    """Revoke an API key; requests with it get 401 from now on."""
    from viva.auth import service as auth_service

    async def work(db: Any) -> str:
        return (await auth_service.revoke_api_key(db, key)).prefix

    console.print(f"revoked {_in_transaction(work)}…")


@keys_app.command("list")
def keys_list(workspace: Annotated[str, typer.Option("--workspace", help="Workspace slug")]) -> None:
    """List a workspace's keys (prefix, name, scopes, last use)."""
    from viva.auth import service as auth_service
    from viva.workspaces import service

    async def work(db: Any) -> list[Any]:
        ws = await service.get_workspace(db, workspace)
        return await auth_service.list_api_keys(db, ws.id)

    for k in _in_transaction(work):
        state = "revoked" if k.revoked_at else "active"
        console.print(f"{k.id}  {k.prefix}…  {state}  {k.name!r}  last used {k.last_used_at or 'never'}")


@users_app.command("create")
def users_create(
    workspace: Annotated[str, typer.Option("--workspace", help="Workspace slug")],
    email: Annotated[str, typer.Option("--email")],
    role: Annotated[str, typer.Option("--role", help="owner | admin | recruiter | reviewer")] = "owner",
    password: Annotated[str | None, typer.Option("--password", help="Default: generated and printed")] = None,
) -> None:
    """Add a dashboard user to a workspace."""
    from viva.workspaces import service

    async def work(db: Any) -> tuple[str, str | None]:
        ws = await service.get_workspace(db, workspace)
        new = await service.create_user(db, ws, email, role=role, password=password)
        return new.user.email, new.password

    user_email, generated = _in_transaction(work)
    console.print(f"{user_email} is {role} of {workspace}")
    if generated:
        console.print(f"password: {generated}")


@app.command("simulate")
def simulate_command(
    session_id: Annotated[str, typer.Argument(help="Id of a scheduled or in-progress session")],
    persona: Annotated[str, typer.Option(help="strong | average | weak | evasive | injection")] = "strong",
    llm: Annotated[
        bool, typer.Option("--llm", help="Let the configured LLM (VIVA_LLM_*) write the answers in persona")
    ] = False,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="The server to talk to (default: VIVA_PUBLIC_URL)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Varies the scripted answers; the same seed, the same words")] = 0,
    max_turns: Annotated[
        int, typer.Option("--max-turns", min=1, help="Answers before the candidate ends the interview")
    ] = 60,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the final line")] = False,
) -> None:
    """Play a candidate through a session's interview over HTTP, as the browser would, to its end.

    Exit code 0 when the interview completed, 1 otherwise, 2 for an unknown session or bad options."""
    import uuid

    import httpx
    from rich.markup import escape

    from viva.interview import personas
    from viva.interview.simulate import SimulationError, SimulationResult, simulate
    from viva.kit.secretbox import SecretBox, load_or_create_key
    from viva.llm import ChatModel, LLMConfigError, chat_model_from_settings

    if persona not in personas.PERSONAS:
        err.print(f"error: unknown persona {persona!r}; choose one of {', '.join(personas.PERSONAS)}")
        raise typer.Exit(2)
    try:
        sid = uuid.UUID(session_id)
    except ValueError:
        err.print(f"error: {session_id!r} is not a session id")
        raise typer.Exit(2) from None
    settings = get_settings()
    secrets = SecretBox(load_or_create_key(settings.secret_key, settings.secret_key_file))
    public_url = (base_url or settings.public_url).rstrip("/")

    async def lookup(db: Any) -> str | None:
        from viva.sessions import service as sessions

        return await sessions.join_url_by_session_id(db, sid, secrets, public_url)

    try:
        join_url = _in_transaction(lookup)
    except ValueError as exc:  # the join token cannot be decrypted with this secret key
        err.print(f"error: {exc}")
        raise typer.Exit(1) from None
    if join_url is None:
        err.print(f"error: no session {sid}")
        raise typer.Exit(2)

    chat_model: ChatModel | None = None
    if llm:
        try:
            chat_model = chat_model_from_settings(
                settings.llm_base_url, settings.llm_api_key, settings.llm_model, settings.llm_provider
            )
        except LLMConfigError as exc:
            err.print(f"error: {exc}")
            raise typer.Exit(2) from None
        if chat_model is None:
            err.print("warning: no LLM is configured (VIVA_LLM_*); the answers are scripted")

    def show(name: str, data: dict[str, Any]) -> None:
        if quiet:
            return
        if name == "state":
            console.print(
                f"[dim]{escape(str(data.get('stage_name')))} at {escape(str(data.get('organization')))}, "
                f"{data.get('duration_minutes')} minutes; {data.get('status')}; persona {persona}[/]"
            )
        elif name == "turn" and data["speaker"] == "interviewer":
            label = data["kind"] + (f", {data['dimension']}" if data.get("dimension") else "")
            console.print(
                f"[bold cyan]Interviewer[/] [dim]({escape(label)})[/]: [cyan]{escape(data['text'])}[/]"
            )
        elif name == "turn":
            console.print(f"[bold green]Candidate[/]: [green]{escape(data['text'])}[/]")
        elif name in ("retry", "llm_fallback", "stream_error"):
            console.print(f"[yellow]{name.replace('_', ' ')}: {escape(str(data.get('message', '')))}[/]")

    async def run() -> SimulationResult:
        try:
            return await simulate(
                join_url, persona, chat_model=chat_model, max_turns=max_turns, on_event=show, seed=seed
            )
        finally:
            if chat_model is not None:
                await chat_model.aclose()

    try:
        result = asyncio.run(run())
    except SimulationError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from None
    except httpx.HTTPError as exc:
        err.print(f"error: cannot reach {public_url}: {exc or type(exc).__name__}")
        raise typer.Exit(1) from None
    summary = (
        f"status: {result.status}  end_reason: {result.end_reason}  "
        f"({len(result.interviewer_turns)} interviewer turns, {len(result.candidate_turns)} answers, "
        f"{result.retries} retries{', ended by the simulator' if result.ended_by_simulator else ''})"
    )
    if result.error:
        err.print(f"error: {result.error}")
    console.print(summary)
    raise typer.Exit(0 if result.status == "completed" else 1)


# --- viva demo ------------------------------------------------------------------------------------

# `viva demo` runs the quickstart (viva.quickstart). Its rounds last the template's 45 minutes of
# interview clock, yet the demo takes seconds: the simulated candidate answers at once and the
# built-in interviewer wraps up as soon as its plan is done.
DEMO_SCORING_TIMEOUT = 60.0  # seconds to wait for a worker to score an interview


class DemoError(Exception):
    """The demo cannot go on; the message says why."""


def _demo_workspace(slug: str | None) -> tuple[str, str]:
    """The demo's workspace (the given slug, created when missing; else the first free of demo,
    demo-2, ...) and a new all-scopes API key for it."""
    from viva.auth import service as auth_service
    from viva.workspaces import service

    async def work(db: Any) -> tuple[str, str]:
        chosen = slug
        if chosen is None:
            chosen, n = "demo", 1
            while await service.workspace_exists(db, chosen):
                n += 1
                chosen = f"demo-{n}"
        if await service.workspace_exists(db, chosen):
            ws = await service.get_workspace(db, chosen)
        else:
            ws = await service.create_workspace(db, chosen, "Viva demo")
        _, secret = await auth_service.create_api_key(db, ws, name="viva demo")
        return chosen, secret

    return _in_transaction(work)


def _excerpt(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return (cut[: cut.rfind(" ")] if " " in cut else cut).rstrip(",;:") + "…"


def _yes_no(value: bool | None) -> str:
    return "—" if value is None else ("[green]yes[/]" if value else "[red]no[/]")


def _print_scorecard(stage: dict[str, Any], card: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{stage['stage_name']}: scorecard", title_justify="left", show_lines=False)
    table.add_column("Dimension")
    table.add_column("Weight", justify="right")
    table.add_column("Score", justify="right")
    table.add_column("Passed", justify="center")
    table.add_column("Reasoning (excerpt)")
    for dim in card.get("dimensions") or []:
        top = card["scale"].split("-")[1]
        score = "not covered" if dim["score"] is None else f"{dim['score']:g} / {top}"
        table.add_row(
            escape(dim["name"]),
            f"{dim['weight']:g}%",
            score,
            _yes_no(dim.get("passed")),
            escape(_excerpt(dim.get("reasoning") or "")),
        )
    if all(dim.get("passed") is None for dim in card.get("dimensions") or []):
        table.caption = "Passed —: no dimension has its own bar; the stage's bar applies to the overall."
        table.caption_justify = "left"
    console.print(table)
    engine = card.get("engine") or {}
    console.print(
        f"  Overall [bold]{card['score']:g}[/] on {card['scale']} ({card['score_percent']:g}%), "
        f"bar {stage['pass_threshold']:g}%: passed {_yes_no(card['passed'])}, "
        f"recommendation [bold]{escape(str(card.get('recommendation')))}[/]"
    )
    console.print(
        f"  Scored by: {escape(str(engine.get('provider')))} {escape(str(engine.get('model')))} "
        f"({escape(str(engine.get('method')))})"
    )


async def _run_demo(base: str, key: str, started: float) -> str:
    """Build the pipeline over the API, interview a strong candidate through it, approve the
    reviewer stages, print every scorecard; returns the participant's final pipeline_status."""
    import time

    import httpx
    from rich.markup import escape

    from viva.interview.simulate import simulate

    async with httpx.AsyncClient(base_url=base, headers={"x-api-key": key}, timeout=60) as api:

        async def call(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            r = await api.request(method, f"/api/v1{path}", json=body)
            if r.status_code >= 400:
                raise DemoError(f"{method} {path} answered {r.status_code}: {r.text[:300]}")
            data: dict[str, Any] = r.json()
            return data

        async def scored(session_id: str) -> dict[str, Any]:
            deadline = time.monotonic() + DEMO_SCORING_TIMEOUT
            while True:
                session = (await call("GET", f"/sessions/{session_id}"))["data"]
                if session["scored_at"] is not None:
                    return dict(session)
                if time.monotonic() > deadline:
                    raise DemoError(
                        f"session {session_id} was not scored within {DEMO_SCORING_TIMEOUT:g} s; "
                        "is a worker running against this database?"
                    )
                await asyncio.sleep(0.1)

        async def session_of(stage: dict[str, Any]) -> dict[str, Any]:
            found = (
                await call(
                    "GET", f"/sessions?candidate_id={participant['id']}&evaluation_stage_id={stage['id']}"
                )
            )["data"]
            if not found:
                raise DemoError(f"the pipeline did not create a session for {stage['stage_name']}")
            return dict(found[-1])

        async def review(session: dict[str, Any], reason: str) -> None:
            await call("POST", f"/sessions/{session['id']}/review", {"decision": "approve", "reason": reason})
            console.print(f"  Reviewer: [bold]approved[/] {escape(session['stage_name'])} ({escape(reason)})")

        profile = (await call("POST", "/agent-profiles", quickstart.PROFILE))["data"]
        template = (await call("POST", "/evaluation-templates", quickstart.TEMPLATE))["data"]
        stages = []
        for spec in quickstart.PIPELINE:
            body = {"evaluation_template_id": template["id"], **spec}
            if spec["stage_type"] != "final_review":
                body["agent_profile_id"] = profile["id"]
            stages.append((await call("POST", "/evaluation-stages", body))["data"])
        participant = (
            await call(
                "POST", "/participants", {**quickstart.PARTICIPANT, "evaluation_template_id": template["id"]}
            )
        )["data"]
        console.print(
            f"Agent profile [bold]{escape(profile['name'])}[/], template "
            f"[bold]{escape(template['template_name'])}[/], stages "
            + " → ".join(
                f"{escape(s['stage_name'])} ({s['stage_type']}, bar {s['pass_threshold']:g}%, "
                f"{s['automation_rule']})"
                for s in stages
            )
        )
        console.print(
            f"Participant [bold]{escape(participant['name'])}[/] <{escape(participant['email'])}>\n"
        )

        session = (
            await call(
                "POST",
                "/sessions",
                {
                    "candidate_id": participant["id"],
                    "evaluation_template_id": template["id"],
                    "stage": "screen",
                    "idempotency_key": f"demo-{participant['id']}-screen",
                },
            )
        )["data"]
        interviewer_label = None
        for i, stage in enumerate(stages):
            if i > 0:
                session = await session_of(stage)
            if stage["stage_type"] == "final_review":
                if session["review_status"] != "pending":
                    raise DemoError(
                        f"{stage['stage_name']} is not awaiting review ({session['review_status']})"
                    )
                console.print(
                    f"[bold]{escape(stage['stage_name'])}[/] ({stage['stage_type']}): no interview, "
                    "a reviewer decides."
                )
                await review(session, "Demo: strong results in every round")
                continue
            join_url = base + "/join/" + session["join_url"].rsplit("/join/", 1)[1]
            result = await simulate(join_url, "strong", seed=i)
            if result.status != "completed":
                why = result.error or result.end_reason
                raise DemoError(f"the {stage['stage_name']} interview ended {result.status}: {why}")
            done = await scored(session["id"])
            card = (await call("GET", f"/sessions/{session['id']}/scorecard"))["data"]
            transcript = (await call("GET", f"/sessions/{session['id']}/transcript"))["data"]
            interviewer_label = (transcript.get("engine") or {}).get("label") or interviewer_label
            console.print(
                f"[bold]{escape(stage['stage_name'])}[/] ({stage['stage_type']}): interview completed, "
                f"{len(result.interviewer_turns)} interviewer turns, {len(result.candidate_turns)} answers, "
                f"{time.monotonic() - started:.1f} s in"
            )
            _print_scorecard(stage, card)
            if done["review_status"] == "pending":
                await review(done, "Demo: convincing technical depth")
            elif not done["passed"]:
                raise DemoError(f"the candidate did not pass {stage['stage_name']}; the pipeline stops here")
            console.print()

        person = (await call("GET", f"/participants/{participant['id']}"))["data"]
        if interviewer_label:
            console.print(f"Interviewer: {escape(interviewer_label)}")
        status = str(person["pipeline_status"])
        console.print(f"\n{escape(person['name'])}: pipeline_status [bold]{status}[/]")
        return status


@app.command()
def demo(
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace", help="Workspace to use (created when missing); default: demo, demo-2, ..."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="A running Viva (with a worker) on this database to talk to; default: start one in-process",
        ),
    ] = None,
    llm: Annotated[
        bool,
        typer.Option(
            "--llm", help="The configured VIVA_LLM_* model interviews and scores (answers stay scripted)"
        ),
    ] = False,
) -> None:
    """Build the quickstart's three-stage hiring pipeline, take a simulated strong candidate
    through every stage (approving the reviewer stages) and print each scorecard.

    Offline with the built-in interviewer and grader; runs against the configured database."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    from viva import schema
    from viva.app import create_app

    started = time.monotonic()
    settings = get_settings()
    schema.upgrade(settings.database_url)

    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    if base_url is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        base = f"http://127.0.0.1:{port}"
        local = settings.model_copy(
            update={
                "public_url": base,
                "run_worker": True,
                "worker_poll_seconds": min(settings.worker_poll_seconds, 0.05),
                "smtp_url": None,  # invites stay in the outbox: the candidate is fictional
                "log_level": "warning",
                **({} if llm else {"llm_provider": "builtin"}),
            }
        )
        config = uvicorn.Config(
            create_app(local), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                err.print("error: the in-process server did not start")
                raise typer.Exit(1)
            time.sleep(0.02)
    else:
        base = base_url.rstrip("/")

    try:
        if server is None:
            httpx.get(f"{base}/healthz", timeout=10).raise_for_status()  # before creating anything
        slug, key = _demo_workspace(workspace)
        console.print(f"Workspace [bold]{slug}[/]\n")
        status = asyncio.run(_run_demo(base, key, started))
    except DemoError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from None
    except httpx.HTTPError as exc:
        err.print(f"error: cannot reach {base}: {exc or type(exc).__name__}")
        raise typer.Exit(1) from None
    finally:
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=30)
    console.print(
        f"\nDone in {time.monotonic() - started:.1f} s. Explore it through the API with workspace "
        f"[bold]{slug}[/] and this key (shown once):"
    )
    print(key)
    raise typer.Exit(0 if status == "recommended" else 1)


if __name__ == "__main__":
    app()
