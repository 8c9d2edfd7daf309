"""The COCO panoptic PNG codec of ``mmpanoptic_cabb.structures``."""
import ast
import glob
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mmpanoptic_cabb.structures.errors import PanopticFormatError
from mmpanoptic_cabb.structures.panoptic_png import (MAX_PANOPTIC_ID,
                                                     SPNG_AVAILABLE, VOID_ID,
                                                     bgr2id,
                                                     decode_panoptic_png,
                                                     id2rgb, read_panoptic_png,
                                                     rgb2id,
                                                     write_panoptic_png)
from tests import REPO_ROOT

PACKAGE = osp.join(REPO_ROOT, 'mmpanoptic_cabb')
EDGE_IDS = [VOID_ID, 1, 255, 256, 65535, 65536, MAX_PANOPTIC_ID]


def _random_ids(seed, shape=(37, 53)):
    rng = np.random.default_rng(seed)
    palette = rng.integers(VOID_ID, MAX_PANOPTIC_ID + 1, 12)
    return palette[rng.integers(0, 12, shape)].astype(np.int64)


# ------------------------------------------------------------- encoding
def test_known_colour():
    assert VOID_ID == 0 and MAX_PANOPTIC_ID == 2**24 - 1
    assert tuple(id2rgb(np.array([1 + 256 * 2 + 65536 * 3]))[0]) == (1, 2, 3)
    assert int(rgb2id(np.array([1, 2, 3]))) == 1 + 256 * 2 + 65536 * 3


def test_edge_ids_round_trip():
    ids = np.array([EDGE_IDS])
    rgb = id2rgb(ids)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, len(EDGE_IDS), 3)
    assert rgb[0, 3].tolist() == [0, 1, 0]  # 256 = G 1
    assert rgb[0, -1].tolist() == [255, 255, 255]
    decoded = rgb2id(rgb)
    assert decoded.dtype == np.uint32
    np.testing.assert_array_equal(decoded, ids)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(VOID_ID, MAX_PANOPTIC_ID), min_size=1,
                max_size=64))
def test_round_trip_any_id(ids):
    ids = np.array(ids, dtype=np.int64)
    np.testing.assert_array_equal(rgb2id(id2rgb(ids)), ids)
    bgr = np.ascontiguousarray(id2rgb(ids[None])[..., ::-1])
    np.testing.assert_array_equal(bgr2id(bgr)[0], ids)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(VOID_ID, MAX_PANOPTIC_ID), min_size=1,
                max_size=48))
def test_png_round_trip_any_id(tmp_path, ids):
    ids = np.array(ids, dtype=np.int64).reshape(1, -1)
    path = str(tmp_path / 'ids.png')
    write_panoptic_png(path, ids)
    np.testing.assert_array_equal(read_panoptic_png(path), ids)
    np.testing.assert_array_equal(
        read_panoptic_png(path, decoder='opencv'), ids)


@pytest.mark.parametrize('bad', [-1, MAX_PANOPTIC_ID + 1, 2**40])
def test_id_out_of_range(bad, tmp_path):
    with pytest.raises(ValueError, match=rf'\[0, {MAX_PANOPTIC_ID}\]') as err:
        id2rgb(np.array([0, bad]))
    assert str(bad) in str(err.value)  # the range found
    path = str(tmp_path / 'bad.png')
    with pytest.raises(ValueError, match='bad.png'):
        write_panoptic_png(path, np.array([[0, bad]]))
    assert not osp.exists(path)


def test_bad_inputs(tmp_path):
    with pytest.raises(TypeError, match='float'):
        id2rgb(np.array([1.5]))
    with pytest.raises(ValueError, match='shape'):
        rgb2id(np.zeros((2, 4), np.uint8))
    with pytest.raises(ValueError, match='uint8'):
        bgr2id(np.zeros((2, 2, 3), np.int32))
    with pytest.raises(ValueError, match='flat.png'):
        write_panoptic_png(str(tmp_path / 'flat.png'), np.zeros(5, np.int32))
    with pytest.raises(ValueError, match='decoder'):
        decode_panoptic_png(b'', decoder='pillow')


# -------------------------------------------------------------- PNG files
def test_png_round_trip(tmp_path):
    ids = _random_ids(1)
    path = str(tmp_path / 'sub' / 'a.png')  # the folder is created
    write_panoptic_png(path, ids)
    read = read_panoptic_png(path)
    assert read.dtype == np.uint32 and read.shape == ids.shape
    np.testing.assert_array_equal(read, ids)
    with open(path, 'rb') as f:
        np.testing.assert_array_equal(decode_panoptic_png(f.read()), ids)


def test_bgr2id_on_opencv_image(tmp_path):
    ids = np.array([[0, 1, 255, 256], [65535, 65536, MAX_PANOPTIC_ID, 123456]])
    path = str(tmp_path / 'a.png')
    write_panoptic_png(path, ids)
    decoded = bgr2id(cv2.imread(path, cv2.IMREAD_COLOR))
    assert decoded.dtype == np.uint32
    np.testing.assert_array_equal(decoded, ids)


@pytest.mark.parametrize('decoder', ['auto', 'opencv'])
def test_keep_alpha(tmp_path, decoder):
    ids = _random_ids(5)
    path = str(tmp_path / 'a.png')
    write_panoptic_png(path, ids)
    raw = read_panoptic_png(path, decoder=decoder, keep_alpha=True)
    assert raw.dtype == np.uint32
    assert ((raw >> 24) == 255).all()  # RGB PNG: opaque
    np.testing.assert_array_equal(raw & np.uint32(MAX_PANOPTIC_ID), ids)


def test_missing_png_names_the_file(tmp_path):
    path = str(tmp_path / 'nowhere' / 'missing.png')
    with pytest.raises(PanopticFormatError, match='missing.png') as err:
        read_panoptic_png(path)
    assert path in str(err.value) and err.value.image == 'missing.png'
    with pytest.raises(PanopticFormatError, match='cannot be read'):
        read_panoptic_png(str(tmp_path))  # a folder


@pytest.mark.parametrize('content', [b'not a png', b''])
def test_unreadable_png_names_the_file(tmp_path, content):
    path = tmp_path / 'broken.png'
    path.write_bytes(content)
    for decoder in ('auto', 'opencv'):
        with pytest.raises(PanopticFormatError, match='broken.png') as err:
            read_panoptic_png(path, decoder=decoder)
        assert str(path) in str(err.value)
        assert err.value.image == 'broken.png'
    with pytest.raises(PanopticFormatError, match='x/y.png'):
        decode_panoptic_png(content, 'x/y.png')


def test_read_equals_panopticapi_rgb2id(tmp_path):
    utils = pytest.importorskip('panopticapi.utils')
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (61, 47, 3), dtype=np.uint8)
    rgb[:5, :5] = 0  # void
    path = str(tmp_path / 'random.png')
    Image.fromarray(rgb).save(path)  # as panopticapi writes its PNGs
    reference = utils.rgb2id(np.array(Image.open(path), dtype=np.uint8))
    for decoder in ('auto', 'opencv'):
        np.testing.assert_array_equal(
            read_panoptic_png(path, decoder=decoder), reference)
    np.testing.assert_array_equal(rgb2id(rgb), reference)
    np.testing.assert_array_equal(id2rgb(reference), rgb)


@pytest.mark.skipif(not SPNG_AVAILABLE, reason='pyspng not installed')
@pytest.mark.parametrize('mode', ['RGB', 'RGBA', 'L', 'P'])
def test_fast_path_equals_opencv(tmp_path, mode):
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (33, 29, 4), dtype=np.uint8)
    image = Image.fromarray(rgba, 'RGBA')
    image = image.convert(mode) if mode != 'RGBA' else image
    path = str(tmp_path / f'{mode}.png')
    image.save(path)
    fast = read_panoptic_png(path, decoder='auto')
    slow = read_panoptic_png(path, decoder='opencv')
    assert fast.dtype == slow.dtype == np.uint32
    np.testing.assert_array_equal(fast, slow)
    if mode == 'RGB':
        np.testing.assert_array_equal(fast, rgb2id(rgba[..., :3]))


@pytest.mark.parametrize('decoder', ['auto', 'opencv'])
def test_16_bit_png_reads_high_bytes(tmp_path, decoder):
    path = str(tmp_path / 'deep.png')
    cv2.imwrite(path, np.full((4, 6, 3), 0x1234, np.uint16))
    np.testing.assert_array_equal(
        read_panoptic_png(path, decoder=decoder),
        np.full((4, 6), 0x121212, np.uint32))


# ------------------------------------------------------ import boundaries
def _imported_modules(path):
    """Absolute names of the modules a source file imports."""
    package = osp.relpath(path, REPO_ROOT)[:-len('.py')].split(osp.sep)[:-1]
    names = []
    for node in ast.walk(ast.parse(open(path, encoding='utf-8').read())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] \
                if node.level else []
            module = '.'.join(base + ([node.module] if node.module else []))
            names.append(module)
            names += [f'{module}.{alias.name}' for alias in node.names]
    return names


def test_structures_import_no_dataset_evaluation_or_offline_code():
    for path in glob.glob(osp.join(PACKAGE, 'structures', '*.py')):
        for name in _imported_modules(path):
            assert not name.startswith(
                ('mmpanoptic_cabb.datasets', 'mmpanoptic_cabb.evaluation',
                 'mmpanoptic_cabb.data_preparation',
                 'mmpanoptic_cabb.models')), (path, name)


#: Offline tooling: the runtime package (``import mmpanoptic_cabb``) never
#: imports these.
OFFLINE = ('mmpanoptic_cabb.data_preparation', 'mmpanoptic_cabb.analysis')


def test_runtime_code_imports_no_offline_code():
    offline = tuple(osp.join(REPO_ROOT, *name.split('.')) + osp.sep
                    for name in OFFLINE)
    for path in glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True):
        if path.startswith(offline):
            continue
        for name in _imported_modules(path):
            assert not name.startswith(OFFLINE), (path, name)


@pytest.mark.parametrize(
    'module', ['mmpanoptic_cabb.structures.panoptic_png', 'mmpanoptic_cabb'])
def test_import_loads_no_offline_module(module):
    code = (f'import sys, {module}\n'
            f'bad = [m for m in sys.modules if m.startswith({OFFLINE!r})]\n'
            'assert not bad, bad\n')
    subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT, check=True,
                   timeout=300)
