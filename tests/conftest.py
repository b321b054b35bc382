import os

from hypothesis import HealthCheck, settings

# Property tests are seeded (derandomized) so that a run is reproducible: a failure is a real bug,
# never noise. HYPOTHESIS_PROFILE=explore turns the randomness back on for bug hunting.
settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
