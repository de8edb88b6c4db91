"""The negative-gradient (repulsion) protocol every backend implements."""
import numpy as np

__all__ = ["NegativeGradient", "ReferenceRepulsion"]


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
    reference_grid : bool
        Whether :meth:`reference` interpolates on a grid around the reference, and takes
        ``padding=`` (its margin; see ``Embedding.prepare_interpolation_grid``).
    """

    name = "base"
    max_components = 0
    reference_grid = False

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

    def reference(self, Y_ref, dof, n_jobs=1):
        """Prepare the repulsion of a fixed reference embedding on new points (for transform).

        Whatever does not depend on the new points (a tree, a grid) is built here, once.

        Parameters
        ----------
        Y_ref : (N_ref, d) array
            Reference positions, copied: later changes to the array do not affect the result,
            and it is never modified.
        dof : float > 0
            Kernel degrees of freedom.
        n_jobs : int, default 1
            Threads of the build, a count >= 1 (backends whose build is serial ignore it).

        Returns
        -------
        ReferenceRepulsion
        """
        raise NotImplementedError(
            f"negative_gradient_method={self.name!r} has no reference variant for transform.")

    def check_components(self, n_components):
        if n_components > self.max_components:
            raise ValueError(
                f"negative_gradient_method={self.name!r} supports at most {self.max_components}-D "
                f"embeddings, got n_components={n_components}; "
                + ("use 'bh' (up to 3-D) or 'exact'." if self.max_components < 3 else "use 'exact'."))


class ReferenceRepulsion:
    """Repulsion of a fixed reference embedding on new points, which do not interact.

    Returned by :meth:`NegativeGradient.reference`. For each new point m,

    - ``out[m] = sum_{j in ref} w_mj^(1 + 1/dof) (y_m - y_j)``;
    - ``z_out[m] = sum_{j in ref} w_mj``.

    Each new point is normalised by its own ``z_out[m]``, and a row's result depends on that
    row and the reference only, so transforming a batch gives exactly what transforming its
    points one by one gives. Implementations are picklable (they may hold a copy of the
    reference and rebuild what they precomputed).

    Attributes
    ----------
    n_components : int
        Dimension d of the reference (and of the new points).
    dof : float
    """

    n_components = 0
    dof = 1.0

    def __call__(self, Y_new, out, z_out, n_jobs=1):
        """Fill ``out`` and ``z_out`` for the rows of ``Y_new``.

        Parameters
        ----------
        Y_new : (M, d) float64, C-contiguous
        out : (M, d) float64, C-contiguous, overwritten
        z_out : (M,) float64, overwritten
        n_jobs : int
        """
        raise NotImplementedError

    def _check_call(self, Y_new, out, z_out):
        """Raise a ValueError unless the arrays have the shapes and layout of the protocol."""
        d = self.n_components
        for name, a, ndim in (("Y_new", Y_new, 2), ("out", out, 2), ("z_out", z_out, 1)):
            if not isinstance(a, np.ndarray) or a.dtype != np.float64 or a.ndim != ndim \
                    or not a.flags.c_contiguous:
                raise ValueError(f"{name} must be a C-contiguous {ndim}-D float64 array, got "
                                 f"{type(a).__name__} {getattr(a, 'dtype', '')} "
                                 f"{getattr(a, 'shape', '')}.")
        m = Y_new.shape[0]
        if Y_new.shape[1] != d or out.shape != (m, d) or z_out.shape != (m,):
            raise ValueError(f"for a {d}-D reference, Y_new must be (M, {d}), out (M, {d}) and "
                             f"z_out (M,); got {Y_new.shape}, {out.shape} and {z_out.shape}.")
        if not out.flags.writeable or not z_out.flags.writeable:
            raise ValueError("out and z_out must be writeable.")


def reference_positions(Y_ref, max_components):
    """Validated C-contiguous float64 copy of reference positions (N_ref, d)."""
    Y = np.array(Y_ref, dtype=np.float64, order="C", copy=True)
    if Y.ndim != 2 or Y.shape[0] < 1 or not 1 <= Y.shape[1] <= max_components:
        raise ValueError(f"Y_ref must be a non-empty (N_ref, d) array with 1 <= d <= "
                         f"{max_components}, got shape {Y.shape}.")
    if not np.isfinite(Y).all():
        raise ValueError("Y_ref contains NaN or infinite positions.")
    Y.setflags(write=False)
    return Y
