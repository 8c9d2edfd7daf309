"""mmpanoptic_cabb.utils.cli.exit_on_input_error: the tools' input errors end in one line."""
import pytest

from mmpanoptic_cabb.utils.cli import exit_on_input_error
from mmpanoptic_cabb.utils.errors import ToolInputError


def _raise(error):
    def main():
        raise error
    return main


def test_input_error_prints_one_line_and_exits_with_1(capsys):
    with pytest.raises(SystemExit) as stop:
        exit_on_input_error(_raise(ToolInputError('image x.jpg cannot be read')))
    assert stop.value.code == 1
    assert capsys.readouterr().err == 'error: image x.jpg cannot be read\n'


def test_only_the_named_errors_are_caught(capsys):
    with pytest.raises(KeyError):
        exit_on_input_error(_raise(KeyError('bug')))
    with pytest.raises(SystemExit) as stop:
        exit_on_input_error(_raise(KeyError('id 7')), (KeyError, ))
    assert stop.value.code == 1
    assert capsys.readouterr().err == "error: 'id 7'\n"


def test_a_main_that_returns_runs_through():
    calls = []
    exit_on_input_error(lambda: calls.append(1))
    assert calls == [1]
