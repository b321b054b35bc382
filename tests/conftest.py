import os
import shutil
import sys

import pytest
from hypothesis import HealthCheck, settings

# Property tests are seeded (derandomized) so that a run is reproducible: a failure is a real bug,
# never noise. HYPOTHESIS_PROFILE=explore turns the randomness back on for bug hunting.
settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local Spark session for the whole test run (a JVM start costs seconds), made only when a test
    asks for it: one core, so that a DataFrame made from a list is one partition read in order, one
    shuffle partition, no UI. Skips when pyspark (the test extra has it) or a Java runtime is missing."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[test]' brings it)")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("pyspark needs a Java runtime (JAVA_HOME or java on PATH)")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers need this Python's sketchy
    # ... the installed one. A worker (`python -m pyspark.daemon`) puts its current directory first on
    # its path, and run from a checkout it would import the sources, which have no compiled module: the
    # JVM, whose directory the workers inherit, starts in an empty one (PYTHONSAFEPATH is 3.11+ only).
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("spark"))
    try:
        session = (
            SparkSession.builder.master("local[1]")
            .appName("sketchy-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.driver.memory", "512m")
            .getOrCreate()
        )
    finally:
        os.chdir(here)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


CLUSTERS = {"cluster", "client", "spark"}  # the Dask cluster fixtures and the Spark session


def pytest_collection_modifyitems(items):
    """Marks every test that starts a Dask cluster or a Spark session `cluster`: the Python-version
    matrix of .ci/run runs the rest (`-m "not slow and not cluster"`) on the other Pythons."""
    for item in items:
        if CLUSTERS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)
