"""A literal, unvectorised transcription of KTAB's SMP turn, for checking the vectorised engine.

Plain Python floats and loops in KTAB's order (``smp.cpp``, ``smpbcn.cpp``, ``kmodel.cpp``),
written independently of ``detente.engines.smp`` so that a shared mistake is unlikely. Slow
(O(n^3) Python operations per turn): only for small tables. Departures of the engine on
degenerate inputs (zero salience, all risk probabilities equal) are mirrored so that the two
can be compared on any input.
"""

from __future__ import annotations

import math


def bv_diff(d: list[float], s: list[float]) -> float:
    ds_sq = 0.0
    ss_sq = 0.0
    for k in range(len(d)):
        ds = d[k] * s[k]
        ds_sq = ds_sq + ds * ds
        ss_sq = ss_sq + s[k] * s[k]
    if ss_sq <= 0.0:
        return 0.0
    return math.sqrt(ds_sq / ss_sq)


def bs_util(sd: float, r: float) -> float:
    if sd <= 1.0:
        return (1.0 - sd) * (1.0 + sd * r)
    return (1.0 - sd) * (1.0 + r)


def scalar_pce(w: list[float], u: list[list[float]], options: list[int]) -> list[float]:
    """Conditional PCE over ``options`` (columns of ``u``), voters weighted by ``w``."""
    m = len(options)
    c = [[0.0] * m for _ in range(m)]
    for a in range(m):
        for b in range(a):
            cab = 1e-8
            cba = 1e-8
            for k in range(len(w)):
                vk = w[k] * (u[k][options[a]] - u[k][options[b]])
                if vk > 0:
                    cab = cab + vk
                if vk < 0:
                    cba = cba - vk
            c[a][b] = cab
            c[b][a] = cba
        c[a][a] = 1e-8
    pv = [[0.0] * m for _ in range(m)]
    for a in range(m):
        for b in range(a):
            x1 = c[a][b]
            x2 = c[b][a]
            pv[a][b] = x1 / (x1 + x2)
            pv[b][a] = x2 / (x1 + x2)
        pv[a][a] = 0.5
    p = []
    for a in range(m):
        pa = 1.0
        for b in range(m):
            pa = pa * pv[a][b]
        p.append(pa)
    total = 0.0
    for x in p:
        total = total + x
    return [x / total for x in p]


def round4(x: float) -> float:
    return float(int(0.5 + x * 10000.0)) / 10000.0


class Literal:
    """One SMP run; ``pos`` on [0, 1], ``sal`` on [0, 1], both lists of per-actor lists."""

    def __init__(self, cap: list[float], pos: list[list[float]], sal: list[list[float]]) -> None:
        self.cap = cap
        self.sal = sal
        self.n = len(cap)
        self.S = []
        for s in sal:
            t = 0.0
            for v in s:
                t = t + v
            self.S.append(t)
        self.states = [self.setup(pos)]

    def setup(self, pos: list[list[float]]) -> dict[str, object]:
        n = self.n
        vd = [
            [
                bv_diff([pos[i][k] - pos[j][k] for k in range(len(pos[i]))], self.sal[i])
                for j in range(n)
            ]
            for i in range(n)
        ]
        rn = [[bs_util(vd[i][j], 0.0) for j in range(n)] for i in range(n)]
        p = scalar_pce(self.cap, rn, list(range(n)))
        p_min = 1.0
        p_max = 0.0
        for x in p:
            p_min = x if x < p_min else p_min
            p_max = x if x > p_max else p_max
        if p_max > p_min:
            nra = [(3 * x - (p_max + 2 * p_min)) / (2 * (p_max - p_min)) for x in p]
        else:
            nra = [0.0] * n
        return {"pos": pos, "vd": vd, "nra": nra}

    def a_util(self, st: dict[str, object], h: int, i: int, j: int) -> float:
        nra: list[float] = st["nra"]  # type: ignore[assignment]
        vd: list[list[float]] = st["vd"]  # type: ignore[assignment]
        return bs_util(vd[i][j], ((2.0 * nra[h]) + nra[i]) / 3.0)

    def prob_edu(self, st: dict[str, object], i: int, j: int) -> tuple[float, float]:
        def u(a: int, b: int) -> float:
            return self.a_util(st, i, a, b)

        uii, uij, uji, ujj = u(i, i), u(i, j), u(j, i), u(j, j)
        eu_sq = u(i, i) + u(i, j)
        uhkij = u(i, i) + u(i, i)
        uhkji = u(i, j) + u(i, j)
        ci = self.S[i] * self.cap[i] * (uii - uij)
        cj = self.S[j] * self.cap[j] * (uji - ujj)
        chij = 1e-10
        chji = 1e-10
        for c in (ci, cj):
            if c > 0:
                chij = chij + c
            if c < 0:
                chji = chji - c
        ci_ij, cj_ij = chij, chji
        for m in range(self.n):
            if m in (i, j):
                continue
            wm = self.S[m] * self.cap[m]
            umi, umj, umm = u(m, i), u(m, j), u(m, m)
            cm = wm * (umi - umj)
            cni = ci_ij + cm if cm > 0 else ci_ij
            cnj = cj_ij - cm if cm < 0 else cj_ij
            pin = cni / (cni + cnj)
            pjn = 1.0 - pin
            u_ik_j = (pin * (umi + umi + umm)) + (pjn * (umj + umj + umj))
            u_i_jk = (pin * (umi + umi + umi)) + (pjn * (umj + umj + umm))
            vm = wm * (u_ik_j - u_i_jk)
            if vm > 0:
                chij = chij + vm
            if vm < 0:
                chji = chji - vm
        phij = chij / (chij + chji)
        phji = chji / (chij + chji)
        sj = self.S[j]
        eu_chlg = (1 - sj) * uhkij + sj * (phij * uhkij + phji * uhkji)
        return phij, eu_chlg - eu_sq

    def step(self) -> list[list[float]]:
        st = self.states[-1]
        n = self.n
        pos: list[list[float]] = st["pos"]  # type: ignore[assignment]
        nra: list[float] = st["nra"]  # type: ignore[assignment]
        bargains: dict[int, tuple[int, list[float], list[float]]] = {}
        for i in range(n):
            best, p_ij, best_eu = -1, 0.0, -1.0
            for j in range(n):
                if j == i:
                    continue
                pij, e = self.prob_edu(st, i, j)
                if 1e-5 < e and best_eu < e:
                    best, p_ij, best_eu = j, pij, e
            if best < 0:
                continue
            j = best
            bi, bj = [], []
            for k in range(len(pos[i])):
                wik = math.pow(self.sal[i][k], 2) * math.pow(p_ij, 2)
                wjk = math.pow(self.sal[j][k], 2) * math.pow(1 - p_ij, 2)
                den = (wik + 1e-6) + wjk
                bi.append(round4(((wik + 1e-6) * pos[i][k] + wjk * pos[j][k]) / den))
                bj.append(round4((wik * pos[i][k] + (1e-6 + wjk) * pos[j][k]) / den))
            bargains[i] = (j, bi, bj)

        def pos_util(a: int, y: list[float]) -> float:
            d = [pos[a][k] - y[k] for k in range(len(y))]
            return bs_util(bv_diff(d, self.sal[a]), nra[a])

        def util(a: int, cand: int | None) -> float:
            total = 0.0
            if cand is None:
                for x in range(n):
                    total = total + self.a_util(st, a, a, x)
            else:
                j, bi, bj = bargains[cand]
                total = total + pos_util(a, bi)
                total = total + pos_util(a, bj)
                for x in range(n):
                    if x not in (cand, j):
                        total = total + self.a_util(st, a, a, x)
            return total / n

        new = []
        for k in range(n):
            queue: list[int | None] = [i for i in range(k) if i in bargains and bargains[i][0] == k]
            queue.append(None)
            if k in bargains:
                queue.append(k)
            queue += [i for i in range(k + 1, n) if i in bargains and bargains[i][0] == k]
            u = [[util(a, c) for c in queue] for a in range(n)]
            p = scalar_pce(self.cap, u, list(range(len(queue))))
            best = 0
            for m in range(len(p)):
                if abs(p[best]) < abs(p[m]):
                    best = m
            choice = queue[best]
            if choice is None:
                new.append(pos[k])
            elif choice == k:
                new.append(bargains[k][1])
            else:
                new.append(bargains[choice][2])
        return new

    def run(self, max_iter: int = 100) -> list[list[list[float]]]:
        def dist(a: list[list[float]], b: list[list[float]]) -> float:
            total = 0.0
            for i in range(self.n):
                sq = 0.0
                for k in range(len(a[i])):
                    sq = sq + (a[i][k] - b[i][k]) * (a[i][k] - b[i][k])
                total = total + math.sqrt(sq)
            return total

        it = 0
        while True:
            it += 1
            self.states.append(self.setup(self.step()))
            pos = [s["pos"] for s in self.states]
            d01 = dist(pos[0], pos[1]) + 1e-4  # type: ignore[arg-type]
            ratio = dist(pos[it], pos[it - 1]) / d01  # type: ignore[arg-type]
            if it >= max_iter or (it >= 2 and ratio < 0.02):
                break
        return [s["pos"] for s in self.states]  # type: ignore[misc]
