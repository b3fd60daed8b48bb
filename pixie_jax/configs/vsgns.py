"""V-SGNS (Lazaridou et al., 2015, multimodal skip-gram model A; docs/baselines.md): SGNS plus a
max-margin term pulling e_w towards a fixed K-dim projection of x_w for every occurrence of a
visual word. Same corpus, features, sampler and optimizer as configs/pixie.py.
--config.vsgns.model=B learns a linear map M from the word space to the feature space instead.
"""
import pathlib
import runpy

import ml_collections

_PIXIE = runpy.run_path(str(pathlib.Path(__file__).with_name("pixie.py")))


def get_config():
    c = _PIXIE["get_config"]()
    c.model.name = "vsgns"
    c.vsgns = ml_collections.ConfigDict()
    c.vsgns.model = "A"        # 'A': fixed principal projection of x into R^K; 'B': learned map M [K, D]
    c.vsgns.gamma = 0.5        # the margin
    c.vsgns.negatives = 20     # k visual words drawn uniformly per visual centre
    c.embedding = "e"
    return c
