"""read_json_input: a user's JSON file, or an error that names it."""
import pytest

from mmpanoptic_cabb.utils.errors import ToolInputError, read_json_input


def test_reads_json_and_names_bad_files(tmp_path):
    good = tmp_path / 'good.json'
    good.write_text('{"PQ": 41.5, "tests": [1, 2]}')
    assert read_json_input(str(good), 'result file') == {
        'PQ': 41.5, 'tests': [1, 2]}
    missing = str(tmp_path / 'missing.json')
    with pytest.raises(ToolInputError,
                       match=r"^sweep record '.*missing\.json' does not "
                       'exist$'):
        read_json_input(missing, 'sweep record')
    bad = tmp_path / 'bad.json'
    bad.write_text('{"PQ": ')
    with pytest.raises(ToolInputError,
                       match=r"^result file '.*bad\.json' is not JSON: "):
        read_json_input(str(bad), 'result file')
    binary = tmp_path / 'binary.json'
    binary.write_bytes(b'\xff\xfe\x00')
    with pytest.raises(ToolInputError, match='is not JSON'):
        read_json_input(str(binary), 'result file')
