"""Running a tool's main in the test process, for input errors that need no run.

A subprocess spends most of its time importing TensorFlow (about 7 CPU
seconds). Where a case only checks that bad input is refused with its
message and leaves nothing behind, the tool's `main` runs here instead; how
each tool turns such an error into one `error:` line and an exit code stays
checked on real subprocesses (test_cli.py, and each tool's own tests).
"""

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_tool(name):
    """tools/<name>.py as a module (its `if __name__ == "__main__"` part not run)."""
    spec = importlib.util.spec_from_file_location(f"{name}_tool",
                                                  os.path.join(ROOT, "tools", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def evaluate_tool():
    """tools/evaluate.py as a module: its run() and print_table() (flags only as a script)."""
    return load_tool("evaluate")


@pytest.fixture(scope="session")
def train_main():
    """main(*args): tools/train.py's main in this process, its flags parsed from args.

    Session-scoped: the tool defines its absl flags when loaded, once per process.
    """
    tool = load_tool("train")
    def main(*args):
        tool.FLAGS.unparse_flags()
        return tool.main(tool.FLAGS(["train.py", *args]))
    yield main
    tool.FLAGS.unparse_flags()
