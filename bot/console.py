"""``lorebot console``: the real bot against a local fake Discord, driven from the terminal.

Type slash commands as you would in Discord — ``/character name:someone``,
``/spoilers episode number:3``, ``/lore-admin add kind:character name:Someone`` — and read the
replies (embeds, fields, buttons and select options) as text. Lines may also come from standard
input, one per line, so sessions can be scripted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shlex
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from fakediscord import FakeDiscord, FakeDiscordError, InvalidInteraction
from fakediscord.interactions import CommandUnavailable
from fakediscord.result import InteractionResult

HELP = """\
Type a slash command with its options as name:value, e.g.
  /character name:a name (typos are fine)
  /help                               (every command of this pack)
  /episode number:3 private:true
  /spoilers episode number:3          (admin)   /spoilers mode mode:hide channel:#spoilers
  /lore-admin add kind:character name:Someone   (then answer the form's questions)
  /lore-admin import file:path/to/pack.yaml
Autocomplete: start the line with ?  e.g.  ?/character name:ro
Buttons and menus of the last reply:  :click LABEL   :select VALUE-OR-LABEL
Switch who you are / where you are:   :admin   :member   :channel NAME   :whoami
:help shows this, :quit (or end of input) leaves.
"""

_OPTION = re.compile(r"(?:(?<=\s)|^)([a-z][\w-]*):")


class ConsoleError(Exception):
    pass


def default_files_dir() -> Path:
    return Path(tempfile.gettempdir()) / "lorebot-console"


class Console:
    def __init__(self, fake: FakeDiscord, out: TextIO = sys.stdout, files_dir: Path | None = None):
        self.fake = fake
        self.out = out
        self.files_dir = files_dir or default_files_dir()
        self.guild = fake.add_guild("Lore Console", channels=["general", "spoilers", "finale"])
        self.admin = fake.add_member(self.guild, "Admin", manage_guild=True)
        self.member = fake.add_member(self.guild, "Viewer")
        self.user = self.admin
        self.channel = self.guild.channels["general"]
        self.last: InteractionResult | None = None
        self.read_line: Callable[[], Awaitable[str | None]] | None = (
            None  # set by run(): an awaitable line reader (for modal questions)
        )

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    # -- parsing -------------------------------------------------------------------------------
    def parse(self, line: str) -> tuple[str, dict[str, Any]]:
        """``/lore-admin fact name:someone text:A new fact episode:1`` -> path, options."""
        body = line.strip()[1:].strip()
        head, _, rest = body.partition(" ")
        command = self.fake.find_command(head, self.guild)
        path = [head]
        options_def = command.get("options", [])
        rest = rest.strip()
        # subcommand group / subcommand words
        while options_def and options_def[0].get("type") in (1, 2):
            word, _, remainder = rest.partition(" ")
            match = next((o for o in options_def if o["name"] == word), None)
            if match is None:
                names = ", ".join(o["name"] for o in options_def)
                raise ConsoleError(f"/{' '.join(path)} needs one of: {names}")
            path.append(word)
            options_def = match.get("options", [])
            rest = remainder.strip()
        known = {o["name"]: o for o in options_def}
        options: dict[str, Any] = {}
        marks = [m for m in _OPTION.finditer(rest) if m.group(1) in known]
        if rest and (not marks or marks[0].start() != 0):
            raise ConsoleError(f"options go as name:value; /{' '.join(path)} takes: {', '.join(known) or 'none'}")
        for i, m in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(rest)
            name = m.group(1)
            options[name] = self.convert(known[name], rest[m.end() : end].strip())
        missing = [n for n, o in known.items() if o.get("required") and n not in options]
        if missing:
            raise ConsoleError(f"/{' '.join(path)} needs: {', '.join(missing)}")
        return " ".join(path), options

    def convert(self, option: dict[str, Any], raw: str) -> Any:
        kind = option.get("type")
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            raw = shlex.split(raw)[0]
        if kind == 4:
            try:
                return int(raw)
            except ValueError:
                raise ConsoleError(f"{option['name']} must be a whole number") from None
        if kind == 10:
            return float(raw)
        if kind == 5:
            if raw.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise ConsoleError(f"{option['name']} must be true or false")
            return raw.lower() in ("true", "yes", "1")
        if kind == 7:
            name = raw.lstrip("#")
            if name not in self.guild.channels:
                raise ConsoleError(f"no channel #{name}; channels: {', '.join(self.guild.channels)}")
            return self.guild.channels[name]
        if kind == 11:
            path = Path(raw).expanduser()
            try:
                return self.fake.attachment(path.name, path.read_bytes())
            except OSError as e:
                raise ConsoleError(f"cannot read {path}: {e.strerror}") from None
        return raw

    # -- actions -------------------------------------------------------------------------------
    async def handle(self, line: str) -> bool:
        """Run one line. Returns False when the session should end."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        try:
            if line.startswith(":"):
                return await self.meta(line)
            if line.startswith("?/"):
                await self.autocomplete(line[1:])
            elif line.startswith("/"):
                path, options = self.parse(line)
                result = await self.fake.slash(path, options, user=self.user, channel=self.channel)
                await self.show(result)
            else:
                self.print("Commands start with /  (type :help for help)")
        except CommandUnavailable:
            self.print("You cannot see that command: it needs Manage Server. Type :admin to switch.")
        except (ConsoleError, InvalidInteraction, FakeDiscordError) as e:
            self.print(f"! {e}")
        return True

    async def meta(self, line: str) -> bool:
        word, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if word in ("q", "quit", "exit"):
            return False
        if word == "help":
            self.print(HELP)
        elif word == "admin":
            self.user = self.admin
            self.print("You are now Admin (Manage Server).")
        elif word == "member":
            self.user = self.member
            self.print("You are now Viewer (no Manage Server).")
        elif word == "whoami":
            role = "Admin (Manage Server)" if self.user is self.admin else "Viewer (member)"
            self.print(f"{role} in #{self.channel.name}")
        elif word == "channel":
            name = arg.lstrip("#")
            if name not in self.guild.channels:
                self.print(f"! no channel #{name}; channels: {', '.join(self.guild.channels)}")
            else:
                self.channel = self.guild.channels[name]
                self.print(f"Now in #{name}.")
        elif word in ("click", "select"):
            if self.last is None:
                self.print("! no reply to interact with yet")
                return True
            try:
                if word == "click":
                    result = await self.fake.click(self.last, label=arg or None, user=self.user)
                else:
                    result = await self.fake.select(self.last, None, [arg], user=self.user)
            except (InvalidInteraction, FakeDiscordError, LookupError, ValueError) as e:
                self.print(f"! {e}")
                return True
            await self.show(result)
        else:
            self.print(f"! unknown :{word} (type :help)")
        return True

    async def autocomplete(self, line: str) -> None:
        body = line[1:]
        head = body.split(" ", 1)[0]
        command = self.fake.find_command(head, self.guild)
        path, options = self.parse_partial(line, command)
        focused = next(reversed(options)) if options else None
        if focused is None:
            self.print("! type the option to complete, e.g. ?/character name:ro")
            return
        choices = await self.fake.autocomplete(path, options, focused=focused, user=self.user, channel=self.channel)
        for name in choices.names:
            self.print(f"  {name}")

    def parse_partial(self, line: str, command: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        try:
            return self.parse(line)
        except ConsoleError:
            # a partial line may lack required options: keep what was typed
            body = line.strip()[1:]
            path, _, rest = body.partition(" ")
            known = {o["name"]: o for o in command.get("options", [])}
            marks = [m for m in _OPTION.finditer(rest) if m.group(1) in known]
            options = {}
            for i, m in enumerate(marks):
                end = marks[i + 1].start() if i + 1 < len(marks) else len(rest)
                options[m.group(1)] = rest[m.end() : end].strip()
            return path, options

    async def show(self, result: InteractionResult) -> None:
        self.last = result if (result.message is not None or result.modal is not None) else self.last
        if result.modal is not None:
            await self.fill_modal(result)
            return
        self.print(result.text)
        self.save_files(result)

    def save_files(self, result: InteractionResult) -> None:
        """Write the files the bot sent (pictures, exports) where the user can open them."""
        for message in result.messages:
            for attachment in message.attachments:
                name = Path(attachment.filename).name or "file"
                try:
                    self.files_dir.mkdir(parents=True, exist_ok=True)
                    path = self.files_dir / name
                    path.write_bytes(attachment.data)
                except OSError as e:
                    self.print(f"(could not save {name}: {e.strerror})")
                    continue
                self.print(f"(saved {path})")

    async def fill_modal(self, result: InteractionResult) -> None:
        modal = result.modal
        assert modal is not None
        self.print(f"[form] {modal.title}")
        values: dict[str, str] = {}
        for field in modal.inputs:
            label = field.get("label") or field.get("custom_id")
            default = field.get("value") or ""
            hint = f" [{default}]" if default else ""
            self.print(f"  {label}{hint} (use \\n for new lines; empty keeps the default)")
            answer = await self.read_line() if self.read_line else ""
            if answer is None:
                return
            answer = answer.rstrip("\n")
            values[field["custom_id"]] = answer.replace("\\n", "\n") if answer else default
        submitted = await self.fake.submit_modal(result, values, user=self.user)
        await self.show(submitted)


async def _run(
    admin: bool,
    db: str | None,
    lines_in: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    files: Path | None = None,
    pack: Path | None = None,
) -> int:
    from bot.app import LoreBot, open_lore
    from bot.ratelimit import Limits
    from lore import CANON_PACK_PATH

    interactive = lines_in.isatty()
    loop = asyncio.get_running_loop()

    async def read_line() -> str | None:
        if interactive:
            print("> ", end="", file=out, flush=True)
        line = await loop.run_in_executor(None, lines_in.readline)
        return line if line else None

    with tempfile.TemporaryDirectory(prefix="lorebot-console-") as tmp:
        db_path = db or str(Path(tmp) / "console.sqlite3")
        async with contextlib.AsyncExitStack() as stack, FakeDiscord() as fake:
            console = Console(fake, out=out, files_dir=files)
            console.read_line = read_line
            if not admin:
                console.user = console.member
            lore = await stack.enter_async_context(open_lore(db_path, canon_pack=pack or CANON_PACK_PATH))
            bot = LoreBot(lore, auto_sync=True, limits=Limits.off())  # a console never refuses
            async with fake.running(bot, check_violations=False):
                if interactive:
                    who = "Admin (Manage Server)" if admin else "Viewer"
                    print(f"lorebot console — you are {who} in #general of a local fake Discord.", file=out)
                    print("Type :help for help, :quit to leave.", file=out)
                while True:
                    line = await read_line()
                    if line is None or not await console.handle(line):
                        break
            for v in fake.violations:
                print(f"! Discord would reject: {v}", file=out)
    return 0


def main(admin: bool = True, db: str | None = None, files: Path | None = None, pack: Path | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord.client").setLevel(logging.ERROR)  # "PyNaCl is not installed": no voice here
    from bot.errors import StartupError

    with contextlib.suppress(KeyboardInterrupt):
        try:
            return asyncio.run(_run(admin, db, files=files, pack=pack))
        except StartupError as e:  # e.g. a pack whose roster command takes a built-in name: one sentence
            print(f"lorebot: {e}", file=sys.stderr)
            return 1
    return 130
