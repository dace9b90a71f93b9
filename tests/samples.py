"""Source documents shared by the end-to-end and real-editor tests."""

# A small Python module; tests append the line they type on.
LIST_FILES_PY = '''import os


def list_files(root):
    """Return the paths of all files under root."""
    result = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            result.append(os.path.join(dirpath, name))
    return result


def main():
    files = list_files(".")
    print(len(files))
'''


# A function whose loop (lines 6..9) reads `os`, `path` and `total`, binds `total` for the
# `return` after it, and `dirpath`, `names`, `n`, `full` only for itself: the refactoring tests'.
TOTAL_SIZE_PY = '''import os


def total_size(path):
    """Bytes under path."""
    total = 0
    for dirpath, _, names in os.walk(path):
        for n in names:
            full = os.path.join(dirpath, n)
            total = total + os.path.getsize(full)
    return total
'''
