"""Plain-numpy reference implementations that the kernels are checked against.

Written for clarity, not speed: loops where loops make the mathematics
obvious. Nothing here imports deepzoo.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))
