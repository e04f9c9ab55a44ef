"""Service configuration: ``TRANSFORMER_*`` environment variables and CLI flags, validated at start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox import LimitPolicy, Limits, LimitsError

_DEFAULT_LIMITS = Limits()


class Settings(BaseSettings):
    """Everything ``transformer serve`` can be told; flags override the environment."""

    model_config = SettingsConfigDict(env_prefix="TRANSFORMER_", frozen=True, extra="forbid")

    host: str = Field("0.0.0.0", description="address to listen on")
    port: int = Field(50051, ge=0, le=65535, description="gRPC port (0 picks a free one)")
    workers: int = Field(1, ge=1, le=256, description="server processes sharing the port")
    destinations_dir: tuple[Path, ...] = Field(
        (), description="extra destination folders (a built-in with the same name is replaced)"
    )
    max_request_bytes: int = Field(
        128 * 1024 * 1024, ge=1024,
        description="largest request accepted; bigger ones get RESOURCE_EXHAUSTED",
    )
    grace_seconds: float = Field(10.0, ge=0, description="SIGTERM drain deadline")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="json, console, or auto (console on a TTY)"
    )
    metrics_port: int | None = Field(
        None, ge=0, le=65535,
        description="port of the Prometheus /metrics endpoint (off when unset, empty or 'off'; 0 picks a "
                    "free one; with N workers, worker i listens on metrics_port + i)",
    )
    tracing: bool = Field(
        False, description="an OpenTelemetry span per RPC (needs the 'otel' extra and a tracer provider)",
    )
    test_clock: bool = Field(
        False,
        description="honour the x-transformer-now-ms request header (tests and conformance only)",
    )

    # user functions: the registry and the sandbox
    store: Literal["sqlite", "postgres"] = Field(
        "sqlite", description="where the function registry lives: a SQLite file, or PostgreSQL "
                              "shared by many replicas")
    database_url: SecretStr | None = Field(
        None, description="PostgreSQL connection string (store=postgres); never logged")
    database_schema: str = Field(
        "public", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL schema of the registry's tables (created if missing)")
    database_pool_size: int = Field(4, ge=1, le=100, description="PostgreSQL connections per server process")
    registry_path: str = Field(
        "./.transformer/registry.sqlite3",
        description="SQLite file of the function registry (':memory:' keeps it in memory)",
    )
    # 1 s: an alias moved on one replica is used by every replica within 2 s (see Resolver)
    function_cache_seconds: float = Field(
        1.0, ge=0, description="how long a resolved function ref (name, alias) is reused",
    )
    sandbox_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 2, ge=1, le=256,
        description="pre-started sandbox worker processes per server process",
    )
    sandbox_wall_ms: int = Field(_DEFAULT_LIMITS.wall_ms, description="default wall-clock limit per call")
    sandbox_cpu_seconds: int = Field(_DEFAULT_LIMITS.cpu_seconds, description="default CPU limit per call")
    sandbox_memory_mb: int = Field(_DEFAULT_LIMITS.memory_bytes >> 20,
                                   description="default memory (address space) of a worker, MiB")
    sandbox_max_output_bytes: int = Field(_DEFAULT_LIMITS.max_output_bytes,
                                          description="default largest JSON a call may return")
    sandbox_max_log_bytes: int = Field(_DEFAULT_LIMITS.max_log_bytes,
                                       description="default most a call may log")
    sandbox_max_events_per_batch: int = Field(_DEFAULT_LIMITS.max_events_per_batch,
                                              description="calls sent to a worker in one round trip")
    sandbox_fuel: int = Field(_DEFAULT_LIMITS.fuel,
                              description="default fuel of a WebAssembly call (~1 unit per instruction)")
    wasm_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 2, ge=1, le=256,
        description="threads running WebAssembly functions per server process",
    )
    wasm_cache_dir: str = Field(
        "", description="directory keeping compiled WebAssembly modules across restarts ('' = memory only)",
    )

    @model_validator(mode="after")
    def _limits_valid(self) -> Settings:
        try:
            self.limit_policy  # noqa: B018  # built to be checked
        except LimitsError as exc:
            raise ValueError(f"sandbox limits: {exc}") from None
        return self

    @model_validator(mode="after")
    def _metrics_ports_valid(self) -> Settings:
        port = self.metrics_port
        if port:
            last = port + self.workers - 1
            if last > 65535:
                raise ValueError(f"metrics_port: workers use ports {port}-{last}, past 65535")
            if port <= self.port <= last:
                raise ValueError(f"metrics_port: {port}-{last} includes the gRPC port {self.port}")
        elif port == 0 and self.workers > 1:
            raise ValueError("metrics_port: --workers > 1 needs a fixed port (worker i uses port + i)")
        return self

    def for_worker(self, index: int) -> Settings:
        """The settings of worker process ``index`` of ``workers``: its own metrics port."""
        if self.metrics_port is None:
            return self
        return self.model_copy(update={"metrics_port": self.metrics_port + index})

    @model_validator(mode="after")
    def _database_named(self) -> Settings:
        if self.store == "postgres" and not self.database_url:
            raise ValueError("store 'postgres' needs TRANSFORMER_DATABASE_URL (a PostgreSQL connection "
                             "string such as postgresql://user@host:5432/dbname)")
        return self

    @property
    def limit_policy(self) -> LimitPolicy:
        """Default sandbox limits from the ``sandbox_*`` settings, and the built-in maximum."""
        return LimitPolicy(defaults=Limits(
            wall_ms=self.sandbox_wall_ms, cpu_seconds=self.sandbox_cpu_seconds,
            memory_bytes=self.sandbox_memory_mb << 20, max_output_bytes=self.sandbox_max_output_bytes,
            max_log_bytes=self.sandbox_max_log_bytes,
            max_events_per_batch=self.sandbox_max_events_per_batch, fuel=self.sandbox_fuel))

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _metrics_off(cls, value: object) -> object:
        # so that an image which turns metrics on can be told to turn them off again
        if isinstance(value, str) and value.strip().lower() in {"", "off", "none"}:
            return None
        return value

    @field_validator("destinations_dir", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(Path(p) for p in value.split(":") if p)
        return value

    @field_validator("destinations_dir")
    @classmethod
    def _dirs_exist(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        for path in value:
            if not path.is_dir():
                raise ValueError(f"{path} is not a directory")
        return value
