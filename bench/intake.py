"""Intake benchmark: N simulated citizens walk the whole tip form at once against the bot in webhook mode.

    python -m bench.intake --citizens 50 --repeat 3 [--database-url URL] [--redis-url URL] [--steps]
    python -m bench.intake --citizens 720 --think 1.0 --ramp 40 --repeat 3   # about 300 updates/s, paced

Three processes, as in production: the Telegram emulator (`python -m sandbox`), the bot exactly as a user
starts it (`python -m bot run`, BOT_MODE=webhook) and this load generator. Every citizen waits for the bot's
answer to each step before the next one, as a person does; with `--think` they also pause before each step
(exponential, that mean) and `--ramp` spreads their arrivals: once arrivals and departures balance the offered
load is about citizens / ramp x 19 updates/s (720 over 40 s: 342/s offered, about 300/s in the middle half of the
run), and latency is measured at that load rather than at saturation. Latency is the time from the control API
accepting the citizen's message (or button press) to the bot's first visible reply in that chat (a new
message or an edit), read with the control API's long poll. Only 127.0.0.1 is used; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import math
import os
import platform
import random
import re
import secrets
import shlex
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.lean_client import LeanControl
from bot.lean_http import HTTPConnectionError
from sandbox.client import SandboxClient, SandboxError, SandboxUser
from sandbox.eventloop import run as run_loop
from storage.db import create_engine

HOST = "127.0.0.1"
RECEIPT = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}")
STARTUP_TIMEOUT = 90.0  # the first start migrates 3,321 communes into a new database
FIRST_USER_ID = 880_000_001
WARMUP_USER_ID = 870_000_001
# Settings the bot reads from the environment; the parent's values must not leak into the benchmark.
BOT_SETTINGS = frozenset(
    {
        "APP_ENV",
        "LOG_LEVEL",
        "DATA_DIR",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_BASE",
        "BOT_MODE",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "WEBHOOK_PATH",
        "WEBHOOK_MAX_CONNECTIONS",
        "API_HOST",
        "API_PORT",
        "SANDBOX_HOST",
        "SANDBOX_PORT",
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "FLOOD_MAX_UPDATES",
        "FLOOD_WINDOW_SECONDS",
    }
)


@dataclass(frozen=True)
class Expect:
    """What ends a step: a button (callback data prefix, label part), a reply keyboard, or the receipt."""

    prefix: str = ""
    label: str = ""
    keyboard: bool = False
    receipt: bool = False

    def find(self, messages: Sequence[dict[str, Any]]) -> tuple[int, str] | None:
        """(message_id, callback_data) of the newest matching message; data is "" when no button is meant."""
        for message in reversed(messages):
            markup = message.get("reply_markup") or {}
            if self.receipt:
                if RECEIPT.search(str(message.get("text") or "")):
                    return int(message["message_id"]), ""
                continue
            if self.keyboard:
                if markup.get("keyboard"):
                    return int(message["message_id"]), ""
                continue
            if not self.prefix:
                return int(message["message_id"]), ""
            for row in markup.get("inline_keyboard") or []:
                for button in row:
                    data = str(button.get("callback_data") or "")
                    if data.startswith(self.prefix) and self.label in str(button.get("text", "")):
                        return int(message["message_id"]), data
        return None


@dataclass(frozen=True)
class Step:
    """One update a citizen sends, and the reply that lets them go on."""

    name: str
    action: str  # "text", "photo" or "press" (the button found by the previous step)
    expect: Expect
    value: str = ""


STEPS: tuple[Step, ...] = (
    Step("start", "text", Expect(), "/start"),
    Step("report", "text", Expect("rp:grp:social_evils"), "/report"),
    Step("group", "press", Expect("rp:cat:drugs")),
    Step("category", "press", Expect("rp:danger:no")),
    Step("danger", "press", Expect("rp:prov:")),
    Step("province_typed", "text", Expect("rp:prov:", "Hà Nội"), "ha noi"),
    Step("province", "press", Expect("rp:ward:unknown")),
    Step("commune_typed", "text", Expect("rp:ward:", "Hoàn Kiếm"), "hoan kiem"),
    Step("commune", "press", Expect("rp:place:skip")),
    Step("place_skip", "press", Expect(keyboard=True)),
    Step("pin_skip", "text", Expect("rp:when:today"), "⏭ Bỏ qua"),
    Step("when", "press", Expect("rp:desc:done")),
    Step("story_1", "text", Expect("rp:desc:done"), "Có người bán ma túy ở đầu ngõ 12 mỗi tối, khoảng 8 giờ."),
    Step("story_2", "text", Expect("rp:desc:done"), "Họ đi xe máy màu đỏ, đội mũ bảo hiểm đen."),
    Step("story_done", "press", Expect("rp:ev:skip")),
    Step("photo", "photo", Expect("rp:ev:done")),
    Step("evidence_done", "press", Expect("rp:anon:follow_up")),
    Step("anonymity", "press", Expect("rp:send")),
    Step("send", "press", Expect(receipt=True)),
)


@dataclass
class Walk:
    """What one citizen measured."""

    latencies: list[tuple[str, float]] = field(default_factory=list)
    sent: int = 0
    sent_at: list[float] = field(default_factory=list)  # perf_counter of every update sent
    error: str | None = None


@dataclass
class RunResult:
    """One benchmark run."""

    citizens: int
    updates: int
    wall: float
    latencies: list[tuple[str, float]]
    errors: list[str]
    tips: int
    cpu: dict[str, float]
    webhook: dict[str, Any]
    calls: dict[str, int] = field(default_factory=dict)  # Bot API calls the bot made during the run, by method
    pressure: str = ""
    bot_log: str = ""
    steady: float = math.nan  # updates/s in the middle half of the run (no ramp-up or tail)

    @property
    def rate(self) -> float:
        """Updates handled per second of wall time."""
        return self.updates / self.wall if self.wall else 0.0

    def percentile(self, q: float, step: str | None = None) -> float:
        """Nearest-rank percentile of reply latency in milliseconds."""
        values = sorted(v for name, v in self.latencies if step is None or name == step)
        if not values:
            return math.nan
        return values[max(0, math.ceil(q * len(values)) - 1)] * 1000


def steady_rate(walks: Sequence[Walk]) -> float:
    """Updates/s in the middle half of the run, away from the ramp-up and the tail."""
    times = sorted(t for w in walks for t in w.sent_at)
    if len(times) < 100 or times[-1] - times[0] < 2.0:
        return math.nan
    span = times[-1] - times[0]
    begin, end = times[0] + span / 4, times[0] + 3 * span / 4
    return sum(1 for t in times if begin <= t <= end) / (end - begin)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def walk(client: LeanControl, user: SandboxUser, step_timeout: float, think: float = 0.0) -> Walk:
    """The whole form for one citizen; stops at the first step that gets no usable reply in time.

    With `think` > 0 the citizen pauses before each step (exponentially distributed, that mean), as people
    read and type.
    """
    result = Walk()
    version = 0
    target: tuple[int, str] = (0, "")
    pauses = random.Random(user.id)  # the same pauses in every run
    for index, step in enumerate(STEPS):
        if think > 0 and index > 0:
            await asyncio.sleep(pauses.expovariate(1 / think))
        if step.action == "text":
            await client.send_text(user, step.value)
        elif step.action == "photo":
            await client.send_photo(user)
        else:
            await client.press(user, target[0], target[1])
        sent_at = time.perf_counter()
        result.sent += 1
        result.sent_at.append(sent_at)
        first: float | None = None
        while True:
            remaining = sent_at + step_timeout - time.perf_counter()
            if remaining <= 0:
                result.error = f"{step.name}: no {'usable ' if first else ''}reply within {step_timeout:.0f}s"
                return result
            page = await client.messages_page(user.id, wait=remaining, since_version=version)
            version = int(page["version"])
            changed: list[dict[str, Any]] = list(page["messages"])
            if changed and first is None:
                first = time.perf_counter() - sent_at
                result.latencies.append((step.name, first))
            found = step.expect.find(changed)
            if found is not None:
                target = found
                break
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (0 where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_process(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> asyncio.subprocess.Process:
    """Start a child process with its output in a log file."""
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            *args, env=env, cwd=cwd, stdout=out, stderr=asyncio.subprocess.STDOUT
        )


async def stop_process(process: asyncio.subprocess.Process, grace: float = 20.0) -> None:
    """SIGTERM, then SIGKILL if it does not exit in time."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()


async def wait_until_up(url: str, process: asyncio.subprocess.Process, log: Path, *, any_answer: bool = False) -> None:
    """Poll an HTTP URL until it answers 2xx (or anything at all); fail early if the process died."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"process exited ({process.returncode}):\n{tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                answer = await http.get(url)
                if answer.is_success or any_answer:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {STARTUP_TIMEOUT:.0f}s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    """The end of a log file."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def bot_environment(options: argparse.Namespace, sandbox_url: str, api_port: int, folder: Path) -> dict[str, str]:
    """The environment `tinbao run` gets: webhook mode against the sandbox, fresh secrets, a quiet log."""
    env = {k: v for k, v in os.environ.items() if k not in BOT_SETTINGS}
    database_url = options.database_url or f"sqlite+aiosqlite:///{folder / 'tinbao.db'}"
    env.update(
        APP_ENV="dev",
        LOG_LEVEL="WARNING",
        DATA_DIR=str(folder / "data"),
        TELEGRAM_BOT_TOKEN=f"{secrets.randbelow(9 * 10**8) + 10**8}:{secrets.token_urlsafe(27)}",
        TELEGRAM_API_BASE=sandbox_url,
        BOT_MODE="webhook",
        WEBHOOK_URL=f"http://{HOST}:{api_port}/telegram/webhook",
        WEBHOOK_SECRET=secrets.token_urlsafe(24),
        API_HOST=HOST,
        API_PORT=str(api_port),
        SANDBOX_PORT=str(free_port()),
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        # A scripted citizen answers faster than a person; the flood guard is not what is measured here.
        FLOOD_MAX_UPDATES="100000",
    )
    if options.redis_url:
        env["REDIS_URL"] = options.redis_url
    return env


async def count_tips(database_url: str) -> int:
    """Tips in the bot's database."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.scalar(text("SELECT count(*) FROM tips"))) or 0)
    finally:
        await engine.dispose()


async def run_citizens(base_url: str, token: str, first_id: int, count: int, options: argparse.Namespace) -> list[Walk]:
    """`count` citizens at once (starts spread over the ramp), each with its own connection."""

    client = LeanControl(base_url, token, timeout=options.timeout + 5)

    async def one(index: int) -> Walk:
        await asyncio.sleep(options.ramp * index / max(1, count))
        user = SandboxUser(id=first_id + index, first_name="Công dân", language_code="vi")
        try:
            return await walk(client, user, options.timeout, options.think)
        except (HTTPConnectionError, TimeoutError, SandboxError, KeyError, ValueError) as exc:
            return Walk(error=f"{type(exc).__name__}: {exc}")

    try:
        return list(await asyncio.gather(*(one(i) for i in range(count))))
    finally:
        await client.aclose()


async def run_once(options: argparse.Namespace, number: int) -> RunResult:
    """Start sandbox and bot, warm up with one citizen, then measure N citizens."""
    with tempfile.TemporaryDirectory(prefix="tinbao-bench-") as tmp:
        folder = Path(tmp)
        sandbox_port, api_port = free_port(), free_port()
        sandbox_url = f"http://{HOST}:{sandbox_port}"
        python = sys.executable
        sandbox_log, bot_log = folder / "sandbox.log", folder / "bot.log"
        sandbox_command = [python, "-m", "sandbox", "--host", HOST, "--port", str(sandbox_port)]
        sandbox = await start_process(sandbox_command, dict(os.environ), folder, sandbox_log)
        bot: asyncio.subprocess.Process | None = None
        try:
            await wait_until_up(f"{sandbox_url}/control/default/behaviour", sandbox, sandbox_log, any_answer=True)
            env = bot_environment(options, sandbox_url, api_port, folder)
            # Exactly what a user runs (`tinbao run` is the same entry point), in its own process.
            command = shlex.split(options.bot_command) if options.bot_command else [python, "-m", "bot", "run"]
            bot = await start_process(command, env, folder, bot_log)
            await wait_until_up(f"http://{HOST}:{api_port}/healthz", bot, bot_log)
            token = env["TELEGRAM_BOT_TOKEN"]
            async with SandboxClient(sandbox_url, token) as control:
                await wait_for_webhook(control)
                warm = await run_citizens(sandbox_url, token, WARMUP_USER_ID + number * 1000, 1, options)
                if warm[0].error:
                    raise RuntimeError(f"warm-up citizen failed: {warm[0].error}\n{tail(bot_log)}")
                tips_before = await count_tips(env["DATABASE_URL"])
                stats_before = await control.stats()
                # The load generator's own full collections would pause every citizen's clock (one of 43 ms was seen
                # mid-run in a --repeat 3): what this process holds so far is left out of them.
                gc.collect()
                gc.freeze()
                cpu_before = {"bot": cpu_seconds(bot.pid), "sandbox": cpu_seconds(sandbox.pid), "load": process_cpu()}
                started = time.perf_counter()
                first_id = FIRST_USER_ID + number * 100_000
                walks = await run_citizens(sandbox_url, token, first_id, options.citizens, options)
                wall = time.perf_counter() - started
                cpu_after = {"bot": cpu_seconds(bot.pid), "sandbox": cpu_seconds(sandbox.pid), "load": process_cpu()}
                stats_after = await control.stats()
                failed = stats_after.get("webhook_failures", 0) - stats_before.get("webhook_failures", 0)
                reasons = [f["error"] for f in (await control.webhook())["failures"][-failed:]] if failed else []
                pressure = host_pressure()
                tips = await count_tips(env["DATABASE_URL"]) - tips_before
            webhook = {
                "delivered": stats_after.get("webhook_delivered", 0) - stats_before.get("webhook_delivered", 0),
                "failures": failed,
                "reasons": reasons,  # the emulator's words for each failed delivery (it retries, as Telegram does)
            }
            calls = {
                method: count - stats_before.get("calls", {}).get(method, 0)
                for method, count in stats_after.get("calls", {}).items()
            }
        finally:
            if bot is not None:
                await stop_process(bot)
            await stop_process(sandbox)
        problems = [w.error for w in walks if w.error]
        return RunResult(
            citizens=options.citizens,
            updates=sum(w.sent for w in walks),
            wall=wall,
            latencies=[pair for w in walks for pair in w.latencies],
            errors=problems,
            tips=tips,
            cpu={name: (cpu_after[name] - cpu_before[name]) / wall for name in cpu_before},
            webhook=webhook,
            calls={method: count for method, count in calls.items() if count},
            pressure=pressure,
            steady=steady_rate(walks),
            bot_log=tail(bot_log, 40) if problems or webhook["failures"] or options.show_log else "",
        )


def host_pressure() -> str:
    """How much other work competed for the CPUs: load average and Linux CPU pressure (share of time stalled)."""
    try:
        load = Path("/proc/loadavg").read_text().split()[0]
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        avg10 = dict(part.split("=") for part in some.split()[1:])["avg10"]
    except (OSError, KeyError, ValueError, IndexError):
        return "host load unknown"
    return f"host load {load}, CPU pressure {avg10}%"


def machine_yardstick() -> float:
    """Milliseconds for a fixed pure-Python workload: the same VM ran ~1.8x slower at some hours, so runs
    from different times are compared by this number, not assumed equal."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += len(str(i)) * (i % 7)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def process_cpu() -> float:
    """CPU seconds used by this process so far."""
    times = os.times()
    return times.user + times.system


async def wait_for_webhook(control: SandboxClient) -> None:
    """`tinbao run` registers its webhook after the API is up; wait for it (bounded)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, Exception):
            if (await control.webhook()).get("url"):
                return
        await asyncio.sleep(0.1)
    raise RuntimeError("the bot did not register its webhook")


def report_run(number: int, result: RunResult, *, steps: bool) -> None:
    """Print one run."""
    cpu = ", ".join(f"{name} {share * 100:.0f}%" for name, share in result.cpu.items())
    per_update = result.cpu["bot"] * result.wall / max(result.updates, 1) * 1000
    print(
        f"run {number}: {result.citizens} citizens, {result.updates} updates in {result.wall:.2f}s = "
        f"{result.rate:.0f} updates/s (steady {result.steady:.0f}/s); latency p50 {result.percentile(0.5):.1f} ms, "
        f"p95 {result.percentile(0.95):.1f} ms, p99 {result.percentile(0.99):.1f} ms; "
        f"errors {len(result.errors)}; tips {result.tips}/{result.citizens}; "
        f"webhook delivered {result.webhook['delivered']} (failures {result.webhook['failures']}); "
        f"CPU of one core: {cpu} (bot {per_update:.2f} ms per update); {result.pressure}",
        flush=True,
    )
    per_method = sorted(result.calls.items(), key=lambda item: -item[1])
    made = ", ".join(f"{method} {count / max(result.updates, 1):.2f}" for method, count in per_method)
    print(f"  Bot API calls per update: {made or 'none'}")
    for error in result.errors[:5]:
        print(f"  error: {error}")
    for reason, times in collections.Counter(result.webhook["reasons"]).most_common(5):
        print(f"  webhook delivery failed {times}x: {reason}")
    if result.bot_log:
        print("  end of the bot's log:\n    " + result.bot_log.replace("\n", "\n    "))
    if steps:
        print(f"  {'step':<16}{'p50 ms':>9}{'p99 ms':>9}")
        for step in STEPS:
            p50, p99 = result.percentile(0.5, step.name), result.percentile(0.99, step.name)
            print(f"  {step.name:<16}{p50:>9.1f}{p99:>9.1f}")


def report_median(results: list[RunResult]) -> None:
    """Print the medians over all runs."""

    def med(values: list[float]) -> float:
        return statistics.median(values)

    print(
        f"median of {len(results)} runs: {med([r.rate for r in results]):.0f} updates/s "
        f"(steady {med([r.steady for r in results]):.0f}/s), "
        f"p50 {med([r.percentile(0.5) for r in results]):.1f} ms, "
        f"p95 {med([r.percentile(0.95) for r in results]):.1f} ms, "
        f"p99 {med([r.percentile(0.99) for r in results]):.1f} ms, "
        f"errors {sum(len(r.errors) for r in results)}, "
        f"tips {sum(r.tips for r in results)}/{sum(r.citizens for r in results)}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=50, help="citizens walking the form at once (default 50)")
    parser.add_argument("--repeat", type=int, default=3, help="independent runs; medians are printed (default 3)")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file per run")
    parser.add_argument("--redis-url", default=None, help="give the bot Redis (FSM, dedupe), as when scaled out")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a step may wait for its reply")
    parser.add_argument("--ramp", type=float, default=0.5, help="seconds over which citizens start (default 0.5)")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a citizen pauses before each step (default 0: answer at once, a pure throughput test); "
        "with --ramp the offered load is about citizens / ramp x 19 updates/s",
    )
    parser.add_argument("--steps", action="store_true", help="also print latency per form step")
    parser.add_argument("--show-log", action="store_true", help="print the end of the bot's log after each run")
    parser.add_argument(
        "--bot-command", default=None, help='how to start the bot (default: "<this python> -m bot run")'
    )
    options = parser.parse_args(argv)
    if not 1 <= options.citizens <= 1000 or not 1 <= options.repeat <= 20:
        parser.error("--citizens must be 1..1000 and --repeat 1..20")
    return options


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its numbers."""
    options = parse_args(argv)
    print(
        f"TinBáo intake benchmark: {options.citizens} citizens x {len(STEPS)} steps, webhook mode, "
        f"{'given database' if options.database_url else 'SQLite'}{' + Redis' if options.redis_url else ''}; "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"yardstick {machine_yardstick():.0f} ms (a fixed pure-Python loop, best of 5: lower is a faster machine)",
        flush=True,
    )
    results: list[RunResult] = []
    for number in range(1, options.repeat + 1):
        result = run_loop(run_once(options, number))
        report_run(number, result, steps=options.steps)
        results.append(result)
    if len(results) > 1:
        report_median(results)
    failed = any(r.errors or r.tips != r.citizens for r in results)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
