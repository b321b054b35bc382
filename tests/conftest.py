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
def spark():
    """One local Spark session for the whole test run (a JVM start costs seconds), made only when a test
    asks for it: one core, so that a DataFrame made from a list is one partition read in order, one
    shuffle partition, no UI. Skips when pyspark (the test extra has it) or a Java runtime is missing."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[test]' brings it)")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("pyspark needs a Java runtime (JAVA_HOME or java on PATH)")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers need this Python's sketchy
    # ... the installed one: run from a checkout, a worker (`python -m pyspark.daemon`) would put the
    # current directory first on its path and import the sources, which have no compiled module.
    os.environ.setdefault("PYTHONSAFEPATH", "1")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("sketchy-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
