"""Service configuration: ``TRANSFORMER_*`` environment variables and CLI flags, validated at start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
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
    test_clock: bool = Field(
        False,
        description="honour the x-transformer-now-ms request header (tests and conformance only)",
    )

    # user functions: the registry and the sandbox
    store: Literal["sqlite"] = Field("sqlite", description="where the function registry lives")
    registry_path: str = Field(
        "./.transformer/registry.sqlite3",
        description="SQLite file of the function registry (':memory:' keeps it in memory)",
    )
    function_cache_seconds: float = Field(
        5.0, ge=0, description="how long a resolved function ref (name, alias) is reused",
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

    @property
    def limit_policy(self) -> LimitPolicy:
        """Default sandbox limits from the ``sandbox_*`` settings, and the built-in maximum."""
        return LimitPolicy(defaults=Limits(
            wall_ms=self.sandbox_wall_ms, cpu_seconds=self.sandbox_cpu_seconds,
            memory_bytes=self.sandbox_memory_mb << 20, max_output_bytes=self.sandbox_max_output_bytes,
            max_log_bytes=self.sandbox_max_log_bytes,
            max_events_per_batch=self.sandbox_max_events_per_batch, fuel=self.sandbox_fuel))

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
