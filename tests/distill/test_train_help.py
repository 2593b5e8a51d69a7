from liveedit_app.cli import build_parser


def test_train_help_paragraphs_fill_their_lines(capsys):
    parser = build_parser()
    try:
        parser.parse_args(["train", "--help"])
    except SystemExit:
        pass
    description = capsys.readouterr().out.split("positional arguments")[0]
    paragraphs = [p.splitlines() for p in description.split("\n\n")[1:] if p.strip()]  # no usage
    for lines in paragraphs:
        assert all(len(line) <= 100 for line in lines), lines
        # a line that breaks a paragraph early reads like a typo in the terminal
        assert all(len(line) >= 70 for line in lines[:-1]), lines
