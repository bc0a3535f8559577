"""`python -m streamgov`: the same command line as the `streamgov` console script."""

from streamgov.cli import main

if __name__ == "__main__":
    main()
