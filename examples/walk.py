import os


def list_python_files(root):
    """Return the paths of all Python files under root, sorted."""
    result = []
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            if name.endswith(".py"):
                result.append(os.path.join(dirpath, name))
    return sorted(result)


def count_lines(path):
    """Return the number of lines in the file at path."""
    with open(path, encoding="utf-8") as handle:
        