//! The DAG: nodes by index, edges by index, topological order and cycle detection.

/// A directed graph over node indices `0..n`.
#[derive(Clone, Debug)]
pub struct Graph {
    edges: Vec<(usize, usize)>,
    upstream: Vec<Vec<usize>>,
    downstream: Vec<Vec<usize>>,
}

impl Graph {
    /// A graph of `n` nodes with the given `(from, to)` edges. Edge `i` keeps index `i`.
    ///
    /// # Panics
    /// If an edge names a node `>= n`; callers check ids first.
    pub fn new(n: usize, edges: Vec<(usize, usize)>) -> Self {
        let mut upstream = vec![Vec::new(); n];
        let mut downstream = vec![Vec::new(); n];
        for (i, &(from, to)) in edges.iter().enumerate() {
            downstream[from].push(i);
            upstream[to].push(i);
        }
        Graph {
            edges,
            upstream,
            downstream,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.upstream.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.upstream.is_empty()
    }

    /// `(from, to)` of edge `e`.
    pub fn edge(&self, e: usize) -> (usize, usize) {
        self.edges[e]
    }

    /// Every edge, by index.
    pub fn edges(&self) -> &[(usize, usize)] {
        &self.edges
    }

    /// Indices of the edges into node `v`, in manifest order.
    pub fn upstream_edges(&self, v: usize) -> &[usize] {
        &self.upstream[v]
    }

    /// Indices of the edges out of node `v`, in manifest order.
    pub fn downstream_edges(&self, v: usize) -> &[usize] {
        &self.downstream[v]
    }

    /// The nodes in an order where every edge points forward; among nodes that are free at the
    /// same time, the lower index (earlier in the manifest) comes first.
    ///
    /// # Errors
    /// The nodes of one cycle, in edge order, when the graph has one.
    pub fn topo_order(&self) -> Result<Vec<usize>, Vec<usize>> {
        let mut pending: Vec<usize> = self.upstream.iter().map(Vec::len).collect();
        let mut ready: std::collections::BTreeSet<usize> =
            (0..self.len()).filter(|&v| pending[v] == 0).collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(v) = ready.pop_first() {
            order.push(v);
            for &e in &self.downstream[v] {
                let to = self.edges[e].1;
                pending[to] -= 1;
                if pending[to] == 0 {
                    ready.insert(to);
                }
            }
        }
        if order.len() == self.len() {
            Ok(order)
        } else {
            Err(self.find_cycle())
        }
    }

    /// One cycle's nodes, starting from the lowest index on it; empty if there is none.
    fn find_cycle(&self) -> Vec<usize> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut mark = vec![Mark::New; self.len()];
        for start in 0..self.len() {
            if mark[start] != Mark::New {
                continue;
            }
            // Iterative DFS: (node, next downstream edge to look at).
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            mark[start] = Mark::OnPath;
            while let Some(&mut (v, ref mut next)) = path.last_mut() {
                if let Some(&e) = self.downstream[v].get(*next) {
                    *next += 1;
                    let to = self.edges[e].1;
                    match mark[to] {
                        Mark::New => {
                            mark[to] = Mark::OnPath;
                            path.push((to, 0));
                        }
                        Mark::OnPath => {
                            let from = path.iter().position(|&(n, _)| n == to).unwrap_or(0);
                            let mut cycle: Vec<usize> =
                                path[from..].iter().map(|&(n, _)| n).collect();
                            let low = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
                            cycle.rotate_left(low);
                            return cycle;
                        }
                        Mark::Done => {}
                    }
                } else {
                    mark[v] = Mark::Done;
                    path.pop();
                }
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diamond_orders_every_edge_forward() {
        let g = Graph::new(4, vec![(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert_eq!(g.topo_order().unwrap(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn ties_follow_manifest_order() {
        let g = Graph::new(3, vec![(2, 0)]);
        assert_eq!(g.topo_order().unwrap(), vec![1, 2, 0]);
    }

    #[test]
    fn cycle_is_reported_with_its_nodes() {
        let g = Graph::new(4, vec![(0, 1), (1, 2), (2, 3), (3, 1)]);
        assert_eq!(g.topo_order().unwrap_err(), vec![1, 2, 3]);
        let self_loop = Graph::new(2, vec![(0, 1), (1, 1)]);
        assert_eq!(self_loop.topo_order().unwrap_err(), vec![1]);
    }
}
