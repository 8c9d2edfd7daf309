"""utils.progress.track: a bar on stderr when enabled, the items unchanged."""
from mmpanoptic_cabb.utils import progress


def test_track_yields_items_and_draws_when_enabled(capsys):
    assert list(progress.track(range(5), description='work',
                               enabled=True)) == [0, 1, 2, 3, 4]
    err = capsys.readouterr().err
    assert 'work' in err and '5/5' in err


def test_track_is_silent_when_disabled(capsys):
    items = iter(['a', 'b'])
    assert list(progress.track(items, total=2, enabled=False)) == ['a', 'b']
    assert capsys.readouterr().err == ''


def test_environment_forces_the_bar(monkeypatch):
    monkeypatch.setenv(progress.PROGRESS_ENV, '0')
    assert not progress.progress_enabled()
    monkeypatch.setenv(progress.PROGRESS_ENV, '1')
    assert progress.progress_enabled()
    monkeypatch.delenv(progress.PROGRESS_ENV)
    # pytest captures stderr: not a terminal
    assert not progress.progress_enabled()
