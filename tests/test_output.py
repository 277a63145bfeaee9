"""Writing files (symbp/output.py): atomic, guarded, and clear when it cannot."""

from __future__ import annotations

import errno
import os

import pytest

from symbp import cli, output
from symbp.errors import OutputError

OLD = f"# {output.MARKER} 0.1.0 from old.toml\nold = True\n"


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_and_replaces_its_own_files(tmp_path):
    target = tmp_path / "deeper" / "net.py"
    output.write(target, OLD)
    assert target.read_text("utf-8") == OLD
    output.write(target, OLD + "new = 1\n")
    assert target.read_text("utf-8").endswith("new = 1\n")
    assert _leftovers(target.parent) == []


def test_refuses_a_file_symbp_did_not_write_unless_forced(tmp_path, capsys):
    mine = tmp_path / "train.py"
    mine.write_text("print('my own code')\n", "utf-8")
    with pytest.raises(OutputError, match="refusing to overwrite a file symbp did not"):
        output.write(mine, OLD)
    assert mine.read_text("utf-8") == "print('my own code')\n"

    # On the command line: one line naming the file, what was refused and why.
    assert cli.main(["generate", "xor", "-o", str(mine)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"symbp: error: {mine}: refusing to overwrite a file symbp did not generate; "
        "pass --force to replace it, or choose another name\n"
    )
    assert mine.read_text("utf-8") == "print('my own code')\n"
    assert cli.main(["generate", "xor", "-o", str(mine), "--force"]) == 0
    assert output.generated_by_symbp(mine)


@pytest.mark.parametrize(
    "args",
    [
        ("derive", "xor"),
        ("derive", "xor", "--format", "json"),
        ("derive", "homework", "--format", "markdown"),
        ("derive", "xor", "--format", "latex"),
        ("generate", "xor"),
    ],
    ids=" ".join,
)
def test_every_output_can_be_written_again_over_itself(tmp_path, capsys, args):
    target = tmp_path / "out.file"
    assert cli.main([*args, "-o", str(target)]) == 0
    first = target.read_bytes()
    assert cli.main([*args, "-o", str(target)]) == 0, capsys.readouterr().err
    assert target.read_bytes() == first


def test_the_marker_is_found_at_the_end_of_a_long_file(tmp_path):
    long = tmp_path / "long.txt"
    long.write_text("x" * (3 << 20) + f"\n{output.MARKER} 0.1.0 from a.toml.\n")
    assert output.generated_by_symbp(long)
    long.write_text("x" * (3 << 20) + "\n")
    assert not output.generated_by_symbp(long)
    middle = tmp_path / "middle.txt"
    middle.write_text("x" * (2 << 20) + output.MARKER + "x" * (2 << 20))
    assert not output.generated_by_symbp(middle)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(OutputError, match="is a folder; give a file name"):
        output.write(tmp_path, "x")


@pytest.mark.parametrize("stage", ["fsync", "replace"])
def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch, stage):
    target = tmp_path / "net.py"
    target.write_text(OLD, "utf-8")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, stage, interrupt)
    with pytest.raises(KeyboardInterrupt):
        output.write(target, f"# {output.MARKER}\n" + "new = 1\n" * 100_000)
    assert target.read_text("utf-8") == OLD
    assert _leftovers(tmp_path) == []


def _full_disk(monkeypatch, name):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, name, full)


@pytest.mark.parametrize("stage", ["fsync", "replace"])
def test_a_full_disk_is_a_clear_error_and_keeps_the_old_file(
    tmp_path, monkeypatch, capsys, stage
):
    target = tmp_path / "net.py"
    target.write_text(OLD, "utf-8")
    _full_disk(monkeypatch, stage)
    with pytest.raises(OutputError, match="cannot write: the disk is full"):
        output.write(target, OLD + "more = 2\n")
    assert target.read_text("utf-8") == OLD
    assert _leftovers(tmp_path) == []
    assert cli.main(["generate", "xor", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err == f"symbp: error: {target}: cannot write: the disk is full\n"


def test_an_unwritable_folder_is_a_clear_error(tmp_path, monkeypatch, capsys):
    # Tests may run as root, who may write anywhere: refuse the way the kernel would.
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(output.tempfile, "mkstemp", denied)
    target = tmp_path / "locked" / "net.py"
    assert cli.main(["generate", "xor", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err == f"symbp: error: {target}: cannot write: permission denied\n"
    assert not target.exists()


def test_a_file_in_the_way_of_the_folder(tmp_path, capsys):
    (tmp_path / "taken").write_text("a file, not a folder\n", "utf-8")
    target = tmp_path / "taken" / "net.py"
    assert cli.main(["generate", "xor", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"symbp: error: {target}: cannot write: ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_permissions_of_a_replaced_file_are_kept(tmp_path):
    target = tmp_path / "net.py"
    target.write_text(OLD, "utf-8")
    target.chmod(0o640)
    output.write(target, OLD + "x = 1\n")
    assert target.stat().st_mode & 0o777 == 0o640
