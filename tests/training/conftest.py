import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Two shared cores: one torch thread per test process avoids oversubscription."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
