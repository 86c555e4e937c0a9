"""Understanding what a caller wants: intent catalog and matcher."""
