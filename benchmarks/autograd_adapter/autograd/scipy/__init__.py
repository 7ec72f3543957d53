import sys
import scipy
import scipy.special
import scipy.stats
import scipy.signal
import scipy.linalg
import scipy.integrate
for _name in ("special", "stats", "signal", "linalg", "integrate"):
    sys.modules[f"autograd.scipy.{_name}"] = getattr(scipy, _name)
    globals()[_name] = getattr(scipy, _name)
sys.modules["autograd.scipy.stats.multivariate_normal"] = scipy.stats.multivariate_normal
sys.modules["autograd.scipy.stats.norm"] = scipy.stats.norm
sys.modules["autograd.scipy.stats.t"] = scipy.stats.t
sys.modules["autograd.scipy.stats.beta"] = scipy.stats.beta
sys.modules["autograd.scipy.stats.gamma"] = scipy.stats.gamma
sys.modules["autograd.scipy.stats.poisson"] = scipy.stats.poisson
sys.modules["autograd.scipy.stats.chi2"] = scipy.stats.chi2
sys.modules["autograd.scipy.stats.dirichlet"] = scipy.stats.dirichlet
