"""`python -m bot` is the same as `tinbao`."""

from bot.cli import main

main()
