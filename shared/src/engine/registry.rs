//! The node types an engine knows, by `type` name.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::{node::NodeType, nodes};
use crate::outbound::Outbound;

/// Node types by their `type` name.
#[derive(Clone, Default)]
pub struct Registry {
    types: HashMap<&'static str, Arc<dyn NodeType>>,
}

impl Registry {
    /// A registry without any node type.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// The built-in node types of docs/workflows.md, for validating: request nodes have no
    /// HTTP client and raise when run.
    pub fn builtin() -> Self {
        Registry::builtin_with(None)
    }

    /// The built-in node types, request nodes calling through `outbound`.
    pub fn builtin_calling(outbound: Arc<Outbound>) -> Self {
        Registry::builtin_with(Some(outbound))
    }

    fn builtin_with(outbound: Option<Arc<Outbound>>) -> Self {
        let mut registry = Registry::empty();
        registry.register(nodes::request::Request { outbound });
        registry.register(nodes::condition::Condition);
        registry.register(nodes::response::Response);
        registry.register(nodes::end::End);
        registry.register(nodes::calculation::Calculation);
        registry.register(nodes::delay::Delay);
        registry.register(nodes::loops::Loop);
        registry.register(nodes::parallel::Parallel);
        registry
    }

    /// The built-ins, built once per process.
    pub(crate) fn shared_builtin() -> &'static Registry {
        static BUILTIN: OnceLock<Registry> = OnceLock::new();
        BUILTIN.get_or_init(Registry::builtin)
    }

    /// Adds `node_type`, replacing any type registered under the same name.
    pub fn register(&mut self, node_type: impl NodeType + 'static) {
        self.types.insert(node_type.kind(), Arc::new(node_type));
    }

    /// The node type named `kind`.
    pub fn get(&self, kind: &str) -> Option<&dyn NodeType> {
        self.types.get(kind).map(|t| t.as_ref())
    }

    /// The registered names, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<_> = self.types.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("types", &self.kinds())
            .finish()
    }
}
