"""How every tool ends on bad input: one `error:` line, no traceback.

`run(main)` is `absl.app.run(main)` with these changes:
- a bad flag, an `app.UsageError`, and a ValueError, OSError or RuntimeError
  raised by `main` (the library's errors for bad input), or a TensorFlow op
  error, print `error: <message>` on stderr and exit with code 1;
- `--traceback` shows the full traceback instead (for bug reports);
- Ctrl-C outside a training loop prints `interrupted` and exits with 130;
- absl's INFO logging (TensorFlow's "Assets written to ...") is off unless
  `--verbosity` is given.
Other exceptions are bugs and keep their traceback.

Imported from the `if __name__ == "__main__":` block of each tool (this folder
is then on sys.path), so importing a tool as a module defines no flags here.
"""

import sys

from absl import app, flags, logging

FLAGS = flags.FLAGS


def error_message(error):
    """The message of an input error (a TensorFlow op error's first line)."""
    message = getattr(error, "message", None) if _is_tf_error(error) else None
    message = (message or str(error)).strip()
    if _is_tf_error(error):
        message = message.splitlines()[0] if message else ""
    return message or type(error).__name__


def _is_tf_error(error):
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(error, tf.errors.OpError)


def _parse_flags(argv):
    try:
        return FLAGS(argv)
    except flags.Error as e:
        sys.exit(f"error: {e} (see --helpshort)")


def run(main):
    """Runs `main(argv)` like `absl.app.run`, with the error handling above."""
    flags.DEFINE_bool("traceback", False, "On an error, show the full traceback instead of "
                      "one `error:` line.")

    def guarded(argv):
        if not FLAGS["verbosity"].present:
            logging.set_verbosity(logging.WARNING)
        try:
            return main(argv)
        except KeyboardInterrupt:
            if FLAGS.traceback:
                raise
            print("interrupted", file=sys.stderr)
            return 130
        except (ValueError, OSError, RuntimeError, app.UsageError) as e:
            if FLAGS.traceback:
                raise
            sys.exit(f"error: {error_message(e)}")
        except Exception as e:
            if FLAGS.traceback or not _is_tf_error(e):
                raise
            sys.exit(f"error: {error_message(e)}")

    app.run(guarded, flags_parser=_parse_flags)
