//! The plugin registry: which connector classes, converters, transforms and
//! sink types a worker knows. The binary fills it; the runtime looks names
//! up here.

use std::sync::Arc;

use sluice_connect_api::config::{props_with_prefix, Props};
use sluice_connect_api::{
    ConditionalTransform, ConfigIssue, ConnectError, Converter, PredicatePlugin, SinkPlugin,
    SourceConnector, Transform, TransformPlugin,
};

/// Creates a converter from its class name (or alias), its settings (prefix
/// removed) and whether it converts keys.
pub type ConverterFactory =
    Arc<dyn Fn(&str, &Props, bool) -> Result<Arc<dyn Converter>, ConnectError> + Send + Sync>;

/// Everything a worker can instantiate.
#[derive(Default, Clone)]
pub struct Plugins {
    connectors: Vec<Arc<dyn SourceConnector>>,
    transforms: Vec<Arc<dyn TransformPlugin>>,
    predicates: Vec<Arc<dyn PredicatePlugin>>,
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

    pub fn add_predicate(&mut self, predicate: Arc<dyn PredicatePlugin>) -> &mut Self {
        self.predicates.push(predicate);
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

    /// The predicate for a `predicates.<alias>.type` value: the class name
    /// or an alias.
    pub fn predicate(&self, class: &str) -> Option<&Arc<dyn PredicatePlugin>> {
        let class = class.trim();
        self.predicates.iter().find(|p| {
            p.class_name() == class || p.aliases().iter().any(|a| a.eq_ignore_ascii_case(class))
        })
    }

    pub fn predicates(&self) -> &[Arc<dyn PredicatePlugin>] {
        &self.predicates
    }

    /// Creates the transform of one stage (`transforms.<alias>.*`, prefix
    /// removed, in `stage`): the transform itself and, when the stage names
    /// a predicate (`predicate`, `negate`), the predicate configured from
    /// `predicates.<predicate>.*` of the connector's `props` (Kafka's
    /// `TransformationStage`).
    pub fn create_transform(
        &self,
        class: &str,
        stage: &Props,
        props: &Props,
    ) -> Result<Box<dyn Transform>, ConnectError> {
        let plugin = self
            .transform(class)
            .ok_or_else(|| ConnectError::config(format!("unknown transform {class}")))?;
        let mut own = stage.clone();
        let predicate = own.remove("predicate");
        let negate = own.remove("negate");
        let transform = plugin.create(&own)?;
        let Some(alias) = predicate
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
        else {
            return Ok(transform);
        };
        let pprops = props_with_prefix(props, &format!("predicates.{alias}."));
        let pclass = pprops.get("type").map(|s| s.trim()).unwrap_or_default();
        let predicate = self
            .predicate(pclass)
            .ok_or_else(|| {
                ConnectError::config(format!(
                    "predicates.{alias}.type: unknown predicate {pclass}"
                ))
            })?
            .create(&pprops)?;
        let negate = negate.is_some_and(|n| n.trim().eq_ignore_ascii_case("true"));
        Ok(Box::new(ConditionalTransform::new(
            predicate, negate, transform,
        )))
    }

    /// Every problem with a connector's `transforms`, `transforms.<alias>.*`,
    /// `predicates` and `predicates.<alias>.*` keys, each under its full key.
    /// Pure.
    pub fn validate_transforms(&self, props: &Props) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        let transforms = aliases(props, "transforms", &mut issues);
        let predicates = aliases(props, "predicates", &mut issues);
        for alias in &transforms {
            let prefix = format!("transforms.{alias}.");
            let mut own = props_with_prefix(props, &prefix);
            let predicate = own.remove("predicate");
            let negate = own.remove("negate");
            match own.get("type").map(|s| s.trim()) {
                None | Some("") => issues.push(missing(&format!("{prefix}type"))),
                Some(class) => match self.transform(class) {
                    Some(plugin) => {
                        issues.extend(prefixed(&prefix, plugin.validate(&own)));
                    }
                    None => issues.push(ConfigIssue {
                        key: format!("{prefix}type"),
                        message: format!(
                            "Class {class} could not be found (no such transform in sluice)"
                        ),
                    }),
                },
            }
            let predicate = predicate
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty());
            if let Some(p) = &predicate {
                if !predicates.contains(p) {
                    issues.push(ConfigIssue {
                        key: format!("{prefix}predicate"),
                        message: format!(
                            "Invalid value {p} for configuration {prefix}predicate: no predicate with this alias is listed in 'predicates'"
                        ),
                    });
                }
            }
            if let Some(n) = negate {
                if predicate.is_none() {
                    issues.push(ConfigIssue {
                        key: format!("{prefix}negate"),
                        message: format!("Config '{prefix}negate' was provided but there is no config '{prefix}predicate' defining a predicate to be negated."),
                    });
                } else if !n.trim().eq_ignore_ascii_case("true")
                    && !n.trim().eq_ignore_ascii_case("false")
                {
                    issues.push(ConfigIssue {
                        key: format!("{prefix}negate"),
                        message: format!("Invalid value {n} for configuration {prefix}negate: Expected value to be either true or false"),
                    });
                }
            }
        }
        for alias in &predicates {
            let prefix = format!("predicates.{alias}.");
            let pprops = props_with_prefix(props, &prefix);
            match pprops.get("type").map(|s| s.trim()) {
                None | Some("") => issues.push(missing(&format!("{prefix}type"))),
                Some(class) => match self.predicate(class) {
                    Some(plugin) => issues.extend(prefixed(&prefix, plugin.validate(&pprops))),
                    None => issues.push(ConfigIssue {
                        key: format!("{prefix}type"),
                        message: format!(
                            "Class {class} could not be found (no such predicate in sluice)"
                        ),
                    }),
                },
            }
        }
        issues
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

/// The aliases listed under `key` (`transforms`, `predicates`); a repeated
/// alias is reported as Kafka does.
fn aliases(props: &Props, key: &str, issues: &mut Vec<ConfigIssue>) -> Vec<String> {
    let Some(raw) = props.get(key) else {
        return Vec::new();
    };
    let list: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut unique: Vec<String> = Vec::with_capacity(list.len());
    for alias in list {
        if !unique.contains(&alias) {
            unique.push(alias);
        }
    }
    if unique.len() != raw.split(',').filter(|s| !s.trim().is_empty()).count() {
        issues.push(ConfigIssue {
            key: key.to_string(),
            message: format!(
                "Invalid value {} for configuration {key}: Duplicate alias provided.",
                raw.trim()
            ),
        });
    }
    unique
}

fn missing(key: &str) -> ConfigIssue {
    ConfigIssue {
        key: key.to_string(),
        message: format!("Missing required configuration \"{key}\" which has no default value."),
    }
}

/// A plugin's issues under `prefix`, their messages naming the full key as
/// Kafka's embedded config definitions do; an issue about the configuration
/// as a whole (no key) is reported on the stage's `type`.
fn prefixed(prefix: &str, issues: Vec<ConfigIssue>) -> impl Iterator<Item = ConfigIssue> + '_ {
    issues.into_iter().map(move |i| {
        if i.key.is_empty() {
            return ConfigIssue {
                key: format!("{prefix}type"),
                message: i.message,
            };
        }
        let full = format!("{prefix}{}", i.key);
        let message = i
            .message
            .replace(
                &format!("for configuration {}:", i.key),
                &format!("for configuration {full}:"),
            )
            .replace(
                &format!("configuration \"{}\"", i.key),
                &format!("configuration \"{full}\""),
            );
        ConfigIssue { key: full, message }
    })
}
