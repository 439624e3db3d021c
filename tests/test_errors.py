import numpy as np
import pytest

from epicap.errors import InputError, check_shape


def test_check_shape_binds_letters():
    assert check_shape(np.zeros((4, 10, 17, 3)), "C, T, J, 3") == {"C": 4, "T": 10, "J": 17}
    assert check_shape(np.zeros((2, 5, 3)), "..., N, 3") == {"N": 5}


@pytest.mark.parametrize("shape,spec,dims", [((4, 2), "N, 3", None), ((4, 2, 1), "N, 2", None),
                                             ((3, 2), "C, 2", {"C": 4}), ((3, 4), "N, N", None)])
def test_check_shape_rejects(shape, spec, dims):
    with pytest.raises(InputError, match="expected shape"):
        check_shape(np.zeros(shape), spec, "x", dims)
