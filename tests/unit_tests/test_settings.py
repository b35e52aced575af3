"""Every setting is read in one place, with one rule per kind, and documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent import settings
from agent.settings import SETTINGS, Setting, SettingError, yes_no

ROOT = Path(__file__).resolve().parents[2]
OURS = [setting for setting in SETTINGS if setting.name not in settings.EXTERNAL]
FLAGS = [setting for setting in SETTINGS if setting.parse is yes_no]
VARIABLE = re.compile(r"\b((?:CHATBOT|OPENAI)_[A-Z_]+|POSTGRES_URI)\b")


def documented(path: Path) -> set[str]:
    return set(VARIABLE.findall(path.read_text()))


@pytest.mark.parametrize("document", [".env.example", "docs/settings.md"])
def test_every_setting_is_documented_and_nothing_documented_is_stale(document: str) -> None:
    names = documented(ROOT / document)
    declared = {setting.name for setting in SETTINGS}
    assert {setting.name for setting in OURS} - names == set(), "undocumented"
    assert names - declared == set(), "documented but read nowhere"


def test_the_readme_names_no_stale_variable() -> None:
    # The settings table lives in docs/settings.md; the README names a few variables.
    declared = {setting.name for setting in SETTINGS}
    assert documented(ROOT / "README.md") - declared == set(), "named but read nowhere"


def test_no_module_reads_the_environment_but_settings() -> None:
    readers = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "src").rglob("*.py")
        if re.search(r"os\.(environ|getenv)", path.read_text())
    }
    # The test harness builds the environment of the servers it starts.
    assert readers <= {"src/agent/settings.py", "src/agent/testing/dev_server.py"}, readers


@pytest.mark.parametrize("flag", FLAGS, ids=[flag.name for flag in FLAGS])
def test_every_flag_reads_yes_and_no_the_same_way(
    flag: Setting[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    for spelling in ("1", "true", "yes", "on", "TRUE", " On "):
        monkeypatch.setenv(flag.name, spelling)
        assert flag.get() is True, spelling
    for spelling in ("0", "false", "no", "off", "OFF"):
        monkeypatch.setenv(flag.name, spelling)
        assert flag.get() is False, spelling
    monkeypatch.setenv(flag.name, "maybe")
    with pytest.raises(SettingError, match=rf"^{flag.name}='maybe' is not a yes/no value"):
        flag.get()


@pytest.mark.parametrize("setting", OURS, ids=[setting.name for setting in OURS])
def test_every_example_value_is_accepted(
    setting: Setting[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    example = setting.example.split(" ")[0].strip('"')
    if example.startswith("<"):
        pytest.skip("a placeholder, not a value")
    monkeypatch.setenv(setting.name, example)
    setting.get()


@pytest.mark.parametrize(
    ("setting", "bad"),
    [
        (settings.MAX_HISTORY_TOKENS, "2k"),
        (settings.MAX_MESSAGE_CHARS, "20k"),
        (settings.DB_POOL_SIZE, "x"),
        (settings.DB_POOL_SIZE, "0"),
        (settings.TEMPERATURE, "3"),
        (settings.MODEL_TIMEOUT, "soon"),
        (settings.HISTORY_TURNS, "some"),
        (settings.OPENAI_BASE_URL, "localhost:11434"),
        (settings.DB_SCHEMA, "my schema"),
        (settings.MAX_REPLY_TOKENS, "-1"),
    ],
)
def test_a_bad_value_names_the_variable_and_an_example(
    setting: Setting[object], bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(setting.name, bad)
    with pytest.raises(SettingError) as raised:
        setting.get()
    message = str(raised.value)
    assert message.startswith(f"{setting.name}={bad!r} is not ")
    assert message.endswith(f"set it to e.g. {setting.example}.")


def test_unset_or_empty_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.MAX_HISTORY_TOKENS.name, "  ")
    assert settings.MAX_HISTORY_TOKENS.get() == 2000
    monkeypatch.setenv(settings.HISTORY_TURNS.name, "all")
    assert settings.HISTORY_TURNS.get() is None
