"""Bodies of POST /code-executions (SPEC §3.6)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from viva.kit.schemas import NOT_BLANK, Flag, NoNul, StrictModel

LANGUAGES = ("python", "javascript", "typescript")
NOT_BATCHED = (
    "c",
    "cpp",
    "c++",
    "csharp",
    "c#",
    "go",
    "golang",
    "java",
    "kotlin",
    "php",
    "ruby",
    "rust",
    "scala",
    "swift",
    "bash",
    "shell",
    "sql",
    "r",
    "perl",
    "haskell",
    "elixir",
    "dart",
    "lua",
)
"""Languages people ask for that this server recognises but cannot run batched: a 422, not a 400."""
MAX_CODE_BYTES = 64 * 1024
MAX_TESTS = 50
MAX_INPUT_BYTES = 256 * 1024

Checker = Literal["exact", "unordered", "float"]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_$][A-Za-z0-9_$]{0,99}$")]


class TestCase(StrictModel):
    name: Annotated[str, StringConstraints(max_length=200), NoNul] | None = Field(
        default=None, description="Shown in results; defaults to 'Test <n>'"
    )
    input: Any = Field(
        description="With `entrypoint`: a JSON array of the function's arguments. Without: stdin text."
    )
    expected_output: Any = Field(
        description="With `entrypoint`: the JSON value the function must return. Without: the expected "
        "stdout, compared after trimming whitespace at both ends."
    )
    checker: Checker = Field(
        default="exact",
        description="exact; unordered (lists, or stdout lines, compared as multisets); float (numbers "
        "within `tolerance`)",
    )
    tolerance: Annotated[float, Field(ge=0, le=1e6)] = Field(
        default=1e-6, description="For the float checker: the largest allowed absolute or relative difference"
    )
    hidden: Flag = Field(
        default=False, description="Report only this test's status, never its data or output"
    )


class CodeExecutionCreate(StrictModel):
    language: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=40)] = Field(
        description="python, javascript or typescript (the others listed answer 422: no batched tests)",
        # The server also takes any case and surrounding spaces; the document names the canonical values.
        json_schema_extra={"enum": [*LANGUAGES, *NOT_BATCHED]},
    )
    code: Annotated[str, NoNul] = Field(
        description="The program, at most 64 KiB of UTF-8", json_schema_extra={"pattern": NOT_BLANK}
    )
    test_cases: Annotated[list[TestCase], Field(min_length=1, max_length=MAX_TESTS)] | None = Field(
        default=None, description="Batched execution: every test runs in one sandboxed process"
    )
    stdin: Annotated[str, NoNul, StringConstraints(max_length=MAX_INPUT_BYTES)] | None = Field(
        default=None, description="A single run with this standard input (instead of test_cases)"
    )
    entrypoint: Identifier | None = Field(
        default=None, description="Function to call with each test's arguments; absent: stdin/stdout tests"
    )
    time_limit_ms: Annotated[int, Field(ge=50, le=10_000)] = Field(default=2000, description="Per test")
    memory_limit_mb: Annotated[int, Field(ge=32, le=4096)] = Field(default=256, description="Per run")

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES and value not in NOT_BATCHED:
            raise ValueError(f"Unknown language {value!r}; expected one of: {', '.join(LANGUAGES)}")
        return value

    @field_validator("code")
    @classmethod
    def _code_size(cls, value: str) -> str:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_CODE_BYTES:
            raise ValueError(f"Code is {size} bytes; the limit is {MAX_CODE_BYTES} (64 KiB)")
        if not value.strip():
            raise ValueError("Code is empty")
        return value


Status = Literal["passed", "failed", "error", "timeout", "memory_limit"]


class TestResultRead(StrictModel):
    index: int
    name: str
    status: Status
    hidden: bool
    expected_output: Any = None
    actual_output: Any = None
    stdout: str | None = None
    stderr: str | None = None
    output_truncated: bool | None = Field(
        default=None,
        description="actual_output was cut to 64 KiB of JSON (the verdict saw all of it): it is then "
        "a string, the start of the returned string or of the returned value's JSON text",
    )
    stdout_truncated: bool | None = None
    stderr_truncated: bool | None = None
    error: str | None = Field(default=None, description="The exception, crash or limit that ended the test")
    duration_ms: float | None = Field(description="null for a hidden test: its time would tell its input")


class CodeExecutionRead(StrictModel):
    status: Literal["passed", "failed", "error"]
    language: str
    passed: int
    total: int
    compile_output: str | None = None
    results: list[TestResultRead]
    duration_ms: float | None = Field(
        description="The whole run's time; null when some test is hidden (it would add up theirs)"
    )
    truncated: bool = Field(
        description="The response reached its 4 MiB limit: the results from the first that did not fit "
        "on carry no outputs (their *_truncated flags say which were cut)"
    )
