// @ts-check
/** Imported first by run.js: settings that must be in place before the AWS SDK loads. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
