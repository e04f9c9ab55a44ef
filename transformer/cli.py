"""The ``transformer`` command line."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click
import orjson
from pydantic import ValidationError

from transformer._catalog import CatalogError, load_catalog
from transformer._cli_fn import fn
from transformer._logging import configure
from transformer._settings import Settings


class StartupError(click.ClickException):
    """Something the service needs at start is missing (the registry's database): one line, exit 2."""

    exit_code = 2


def _settings(**flags: Any) -> Settings:
    """Environment first, flags on top; every invalid value reported at once, then exit 2."""
    given = {k: v for k, v in flags.items() if v is not None and v != ()}
    try:
        return Settings(**given)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                 for e in exc.errors()]
        raise click.UsageError("invalid configuration:\n" + "\n".join(lines)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="transformer")
def main() -> None:
    """Event transformation service: customer-data events in, destination API requests out."""


main.add_command(fn)


@main.command()
@click.option("--host", help="Address to listen on [env TRANSFORMER_HOST; default 0.0.0.0].")
@click.option("--port", type=int, help="gRPC port [env TRANSFORMER_PORT; default 50051].")
@click.option("--workers", type=int,
              help="Server processes sharing the port [env TRANSFORMER_WORKERS; default 1].")
@click.option("--destinations-dir", "destinations_dir", multiple=True,
              type=click.Path(path_type=Path),
              help="Extra destination folders; repeatable [env TRANSFORMER_DESTINATIONS_DIR].")
@click.option("--log-format", type=click.Choice(["auto", "json", "console"]))
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--registry-path",
              help="SQLite file of the function registry [env TRANSFORMER_REGISTRY_PATH; "
                   "default ./.transformer/registry.sqlite3].")
@click.option("--sandbox-workers", type=int,
              help="Sandbox worker processes per server process [env TRANSFORMER_SANDBOX_WORKERS; "
                   "default: one per CPU].")
@click.option("--metrics-port", type=int,
              help="Port of the Prometheus /metrics endpoint; worker i of --workers uses this + i "
                   "[env TRANSFORMER_METRICS_PORT; default: off].")
def serve(**flags: Any) -> None:
    """Serve the Transformer and Functions gRPC APIs until SIGTERM, then drain in-flight batches."""
    settings = _settings(**flags)
    configure(settings.log_level, settings.log_format)
    if settings.tracing:
        from transformer._tracing import TracingUnavailable, require_tracing

        try:
            require_tracing()
        except TracingUnavailable as exc:
            raise click.ClickException(str(exc)) from None
    try:
        catalog = load_catalog(settings.destinations_dir)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    _check_registry(settings)
    if settings.workers == 1:
        asyncio.run(_serve(settings, catalog))
        return
    if settings.port == 0:
        raise click.UsageError("--workers > 1 needs a fixed --port: the processes share it")
    _serve_many(settings)


def _check_registry(settings: Settings) -> None:
    """Open the registry once before serving (this also migrates its tables): a wrong database URL
    or a database that is down is one clear line, not a traceback from every worker."""
    from functions import StoreUnavailable
    from transformer._server import open_registry

    try:
        open_registry(settings).store.close()
    except StoreUnavailable as exc:
        raise StartupError(exc.message) from None


async def _serve(settings: Settings, catalog: Any) -> None:
    from functions import StoreUnavailable
    from transformer._server import serve_forever

    try:
        await serve_forever(settings, catalog)
    except StoreUnavailable as exc:  # the database went away since _check_registry
        raise StartupError(exc.message) from None


def _worker(settings: Settings, ready: Any) -> None:
    from transformer._signals import catch_early_stop

    # From here on a SIGTERM is remembered until the server handles it; the parent holds back
    # the SIGTERM it forwards until this process says so (see _serve_many).
    catch_early_stop()
    ready.set()
    configure(settings.log_level, settings.log_format)
    try:
        asyncio.run(_serve(settings, load_catalog(settings.destinations_dir)))
    except StartupError as exc:
        exc.show()
        sys.exit(exc.exit_code)


def _serve_many(settings: Settings) -> None:
    """N processes, each a full server on the same port (SO_REUSEPORT spreads connections).

    SIGTERM/SIGINT are forwarded to each child once it can take them (it is past interpreter
    start-up): a child still starting then finishes starting and drains, instead of dying half-way.
    """
    context = multiprocessing.get_context("spawn")
    ready = [context.Event() for _ in range(settings.workers)]
    children = [context.Process(target=_worker, args=(settings.for_worker(i), ready[i]), name=f"worker-{i}")
                for i in range(settings.workers)]
    stopping = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    for child in children:
        child.start()
    told: set[int] = set()
    while any(child.is_alive() for child in children):
        if stopping.is_set():
            for i, child in enumerate(children):
                if i not in told and ready[i].is_set() and child.pid is not None and child.is_alive():
                    os.kill(child.pid, signal.SIGTERM)
                    told.add(i)
        for child in children:
            child.join(timeout=0.05)
    codes = [child.exitcode or 0 for child in children]
    # a child killed by a signal has a negative exit code: that is a failure too
    sys.exit(next((1 for code in codes if code < 0), max(codes)))


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--destination", "destinations", multiple=True, help="Only these (repeatable).")
@click.option("--destinations-dir", "extra_dirs", multiple=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--failures", is_flag=True, help="List every failing case with its first difference.")
def conformance(directory: Path | None, destinations: tuple[str, ...],
                extra_dirs: tuple[Path, ...], as_json: bool, failures: bool) -> None:
    """Score destinations against reference cases (default ../shared/conformance/cases)."""
    from transformer._conformance import default_cases_dir, report_json, run_conformance

    configure("warning", "json")
    directory = directory or default_cases_dir()
    if not directory.is_dir():
        raise click.UsageError(f"no case directory at {directory}")
    try:
        scores = run_conformance(directory, destinations, extra_dirs)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(orjson.dumps(report_json(scores)).decode())
        return
    _print_scores(scores, failures)


def _print_scores(scores: dict[str, Any], failures: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table("destination", "cases", "strict", "semantic", "supported")
    totals = [0, 0, 0]
    for name, s in scores.items():
        if not s.supported:
            table.add_row(name, str(s.cases), "-", "-", "unsupported", style="dim")
        else:
            style = "green" if s.semantic == s.cases else "red"
            table.add_row(name, str(s.cases), str(s.strict), str(s.semantic), "yes", style=style)
        totals = [totals[0] + s.cases, totals[1] + s.strict, totals[2] + s.semantic]
    table.add_row("total", *map(str, totals), "", style="bold")
    console.print(table)
    if failures:
        for s in scores.values():
            if s.supported:
                for f in s.failures:
                    console.print(f"[bold]{f.id}[/] {'semantic' if not f.semantic else 'strict'}: "
                                  f"{f.detail}", markup=True, highlight=False)


@main.command()
@click.option("--destinations-dir", "extra_dirs", multiple=True, type=click.Path(path_type=Path))
def check(extra_dirs: tuple[Path, ...]) -> None:
    """Validate destination folders and exit (every problem listed, with file and path)."""
    try:
        catalog = load_catalog(extra_dirs)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(catalog)} destinations OK: {', '.join(sorted(catalog.destinations))}")


@main.command()
@click.option("--cases", "cases_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Reference cases to score (default ../shared/conformance/cases).")
@click.option("--destinations-dir", "extra_dirs", multiple=True, type=click.Path(path_type=Path))
@click.option("--readme-table", "readme", is_flag=True,
              help="Print README.md's per-destination table (with its markers) instead.")
def catalog(cases_dir: Path | None, extra_dirs: tuple[Path, ...], readme: bool) -> None:
    """Print the destination catalog page (Markdown), with conformance scores when cases exist."""
    from transformer._catalog_page import readme_table, render
    from transformer._conformance import default_cases_dir, report_json, run_conformance

    configure("warning", "json")
    try:
        loaded = load_catalog(extra_dirs)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    if readme:
        click.echo(readme_table(loaded), nl=False)
        return
    directory = cases_dir or default_cases_dir()
    scores: dict[str, Any] = {}
    if directory.is_dir():
        report = report_json(run_conformance(directory, sorted(loaded.destinations), extra_dirs))
        scores = report["destinations"]
    click.echo(render(loaded, scores), nl=False)


@main.command()
@click.option("--address", help="Server to ask [default: 127.0.0.1 on TRANSFORMER_PORT, else 50051].")
@click.option("--service", default="", help="Service to ask about (default: the whole server).")
@click.option("--timeout", type=float, default=2.0, show_default=True, help="Seconds to wait.")
def health(address: str | None, service: str, timeout: float) -> None:
    """Exit 0 when the server's gRPC health service answers SERVING, 1 otherwise (container checks)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    # the port the server was told, so a container's check follows a changed TRANSFORMER_PORT
    address = address or f"127.0.0.1:{os.environ.get('TRANSFORMER_PORT') or 50051}"

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as exc:
            click.echo(f"{address}: {exc.code().name}: {exc.details()}", err=True)
            sys.exit(1)
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    click.echo(f"{address}: {status}")
    sys.exit(0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1)
