//! The plugin registry: which connector classes, converters, transforms and
//! sink types a worker knows. The binary fills it; the runtime looks names
//! up here.

use std::sync::Arc;

use sluice_connect_api::config::Props;
use sluice_connect_api::{ConnectError, Converter, SinkPlugin, SourceConnector, TransformPlugin};

/// Creates a converter from its class name (or alias), its settings (prefix
/// removed) and whether it converts keys.
pub type ConverterFactory =
    Arc<dyn Fn(&str, &Props, bool) -> Result<Arc<dyn Converter>, ConnectError> + Send + Sync>;

/// Everything a worker can instantiate.
#[derive(Default, Clone)]
pub struct Plugins {
    connectors: Vec<Arc<dyn SourceConnector>>,
    transforms: Vec<Arc<dyn TransformPlugin>>,
    sinks: Vec<Arc<dyn SinkPlugin>>,
    converters: Option<ConverterFactory>,
}

impl Plugins {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_connector(&mut self, connector: Arc<dyn SourceConnector>) -> &mut Self {
        self.connectors.push(connector);
        self
    }

    pub fn add_transform(&mut self, transform: Arc<dyn TransformPlugin>) -> &mut Self {
        self.transforms.push(transform);
        self
    }

    pub fn add_sink(&mut self, sink: Arc<dyn SinkPlugin>) -> &mut Self {
        self.sinks.push(sink);
        self
    }

    pub fn set_converters(&mut self, factory: ConverterFactory) -> &mut Self {
        self.converters = Some(factory);
        self
    }

    /// The connector for a `connector.class` value: the class name, an alias,
    /// or the class's simple name (`FileStreamSourceConnector`), as Kafka
    /// accepts.
    pub fn connector(&self, class: &str) -> Option<&Arc<dyn SourceConnector>> {
        let class = class.trim();
        self.connectors.iter().find(|c| {
            let full = c.class_name();
            full == class
                || full.rsplit('.').next() == Some(class)
                || c.aliases().iter().any(|a| a.eq_ignore_ascii_case(class))
        })
    }

    /// Every connector class, for `/connector-plugins` and error messages.
    pub fn connectors(&self) -> &[Arc<dyn SourceConnector>] {
        &self.connectors
    }

    pub fn transform(&self, class: &str) -> Option<&Arc<dyn TransformPlugin>> {
        let class = class.trim();
        self.transforms.iter().find(|t| {
            t.class_name() == class || t.aliases().iter().any(|a| a.eq_ignore_ascii_case(class))
        })
    }

    pub fn transforms(&self) -> &[Arc<dyn TransformPlugin>] {
        &self.transforms
    }

    pub fn sink(&self, sink_type: &str) -> Option<&Arc<dyn SinkPlugin>> {
        self.sinks
            .iter()
            .find(|s| s.sink_type().eq_ignore_ascii_case(sink_type.trim()))
    }

    pub fn sinks(&self) -> &[Arc<dyn SinkPlugin>] {
        &self.sinks
    }

    /// Creates a converter; a config error names the class when unknown.
    pub fn converter(
        &self,
        class: &str,
        props: &Props,
        is_key: bool,
    ) -> Result<Arc<dyn Converter>, ConnectError> {
        match &self.converters {
            Some(f) => f(class, props, is_key),
            None => Err(ConnectError::config(format!(
                "no converters are registered (asked for {class})"
            ))),
        }
    }

    /// `connector.class` values that are known, for error messages.
    pub fn connector_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.connectors {
            out.push(c.class_name().to_string());
            out.extend(c.aliases().iter().map(|a| a.to_string()));
        }
        out
    }
}
