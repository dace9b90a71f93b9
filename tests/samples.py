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
