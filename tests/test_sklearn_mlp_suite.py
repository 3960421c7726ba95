"""scikit-learn's own MLP test suite, run against skvgrad's estimators.

The module ``sklearn/neural_network/tests/test_mlp.py`` ships in scikit-learn's
wheel. Its source is run here with ``MLPClassifier`` and ``MLPRegressor``
replaced by ``MLPAutogradClassifier`` and ``MLPAutogradRegressor``: a drop-in
answers the same tests. The few that cannot pass are listed with the reason,
and fail strictly (a fix makes them pass and the list must shrink).
"""

from pathlib import Path

import pytest
import sklearn.neural_network.tests.test_mlp as reference

SOURCE = Path(reference.__file__).read_text()
IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
assert IMPORT in SOURCE, "scikit-learn's test module has changed its imports"
namespace = {"__name__": __name__}
exec(  # noqa: S102 (the module's own source, with our classes swapped in)
    compile(
        SOURCE.replace(
            IMPORT,
            "from skvgrad import MLPAutogradClassifier as MLPClassifier\n"
            "from skvgrad import MLPAutogradRegressor as MLPRegressor",
        ),
        reference.__file__,
        "exec",
    ),
    namespace,
)

KNOWN_DIFFERENCES = {
    "test_gradient": "calls the private method _loss_grad_lbfgs",
    "test_learning_rate_warmstart": "reads the private attribute _optimizer (skvgrad "
    "keeps the optimizer's state as plain data, not as an optimizer object)",
    "test_adaptive_learning_rate": "reads the private attribute _optimizer",
    "test_mlp_diverging_loss": "skvgrad raises a ValueError naming the cause when "
    "training diverges, where MLPRegressor returns a model whose last validation "
    "score is NaN",
}

for _name, _test in namespace.items():
    if _name.startswith("test_"):
        if _name in KNOWN_DIFFERENCES:
            _test = pytest.mark.xfail(reason=KNOWN_DIFFERENCES[_name], strict=True)(
                _test
            )
        globals()[_name] = _test


@pytest.fixture
def global_random_seed():
    """scikit-learn's default global test seed."""
    return 42
