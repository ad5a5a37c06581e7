"""The container half of the conformance suite (.fca, SPEC 11 and 12).

Its own byte writer (writer.py), payloads of small hand-made avatars (avatars.py), the shared
vector record and file builders (definitions.py), the vector definitions (vectors.py,
reading.py, clarity.py; suite.py lists them all), the expected dump and tolerance checks
(expected.py, check.py) and the generator (generate.py).
"""
