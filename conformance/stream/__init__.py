"""The stream half of the conformance suite (.fcs, SPEC 5 to 7 and 14).

Its own bit writer (bits.py) and syntax positions (syntax.py), scripts of units (script.py),
the expected-output model of the decoding and loss processes (model.py) and of the Main
profile's range coder (range_coder_model.py), damage (damage.py), and the vector definitions
(vectors.py, invalid.py, clarity.py, main_vectors.py) with their targeted elements (targets.py).
Nothing here imports refcodec's writer or decoder to produce expected outputs.
"""
