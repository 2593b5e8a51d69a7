import pytest

from liveedit_app.cli import SUBCOMMANDS, build_parser, main


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([name, "--help"])
    assert exit_info.value.code == 0


def test_an_error_is_one_sentence_and_details_need_verbose(capsys):
    command = ["edit", "no-such-clip.mp4", "-p", "make it red", "-o", "out.mp4"]
    assert main(command) == 2
    quiet = capsys.readouterr().err.splitlines()
    assert len(quiet) == 1 and quiet[0].startswith("liveedit: ")
    assert main(["--verbose", *command]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 2
