"""The negative-gradient (repulsion) protocol every backend implements."""

__all__ = ["NegativeGradient"]


class NegativeGradient:
    """Repulsive term of the t-SNE gradient.

    With the kernel ``w_ij = (1 + |y_i - y_j|^2 / dof)^(-dof)`` a backend computes

    - ``F_i = sum_{j != i} w_ij^(1 + 1/dof) (y_i - y_j)``, unnormalised, into ``out``;
    - ``Z = sum_{i != j} w_ij``, returned.

    The repulsive part of the gradient (divided by 4, as everywhere in fasttsne) is
    ``F_i / Z``. Approximate backends return approximations of both.

    Attributes
    ----------
    name : str
        Registry name.
    max_components : int
        Largest embedding dimension supported.
    """

    name = "base"
    max_components = 0

    def __call__(self, Y, dof, out, n_jobs=1):
        """Fill ``out`` (N, d) float64 with F and return Z (float).

        Parameters
        ----------
        Y : (N, d) float64, C-contiguous
        dof : float > 0
        out : (N, d) float64, C-contiguous, overwritten
        n_jobs : int
        """
        raise NotImplementedError

    def check_components(self, n_components):
        if n_components > self.max_components:
            raise ValueError(
                f"negative_gradient_method={self.name!r} supports at most {self.max_components}-D "
                f"embeddings, got n_components={n_components}; "
                + ("use 'bh' (up to 3-D) or 'exact'." if self.max_components < 3 else "use 'exact'."))
