"""Service configuration: ``TRANSFORMER_*`` environment variables and CLI flags, validated at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
