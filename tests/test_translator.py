"""unit_tf.translator.load_keras_model: damaged .keras files are named as such."""

import pytest

import unit_tf
from unit_tf.translator import load, load_keras_model


@pytest.fixture(scope="module")
def keras_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    unit_tf.UNIT("tiny").save(path)
    return path.read_bytes()


def test_truncated_and_text_files_are_not_valid_archives(tmp_path, keras_bytes):
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(keras_bytes[:20000])
    text = tmp_path / "text.keras"
    text.write_text("hello\n")
    with pytest.raises(ValueError, match=r"truncated.keras is not a valid .keras archive "
                                         r"\(20,000 bytes"):
        load_keras_model(str(truncated))
    with pytest.raises(ValueError, match=r"text.keras is not a valid .keras archive \(6 bytes"):
        load(str(text))


def test_valid_archive_loads(tmp_path, keras_bytes):
    path = tmp_path / "ok.keras"
    path.write_bytes(keras_bytes)
    assert load(str(path)).preset.name == "tiny"
