from liveedit_app.cli import main

raise SystemExit(main())
