import sys
from pathlib import Path

# Lets the tests in this folder import torch_testing, their shared helpers.
sys.path.insert(0, str(Path(__file__).parent))
