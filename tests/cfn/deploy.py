"""Deploys template.yaml into a CloudFormation-compatible endpoint (moto) the way
`sam package` + `sam deploy` would, and reports what the stack holds, as JSON on stdout.

1. Package: each function's `bootstrap` (a binary path given per logical id) zipped and put
   in a bucket of the endpoint's S3; its CodeUri rewritten to that object (`sam package`).
2. Transform: the `AWS::Serverless-2016-10-31` transform applied with aws-sam-translator,
   the library behind that transform (moto does not apply transforms itself).
3. Intrinsics moto lacks, evaluated here as CloudFormation defines them: `Fn::Cidr`.
   Nothing of the template itself is changed.
4. CreateStack; then the stack's status, outputs and resources, plus details of what the
   endpoint can describe (functions, the task definition, the service, the table, the
   security group), and the template's resources the endpoint did not create.

Usage: deploy.py ENDPOINT TEMPLATE STACK PARAMS_JSON ARTIFACTS_JSON
"""
import io
import ipaddress
import json
import os
import sys
import zipfile

import boto3
from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform

endpoint, template_path, stack, params, artifacts = sys.argv[1:6]
params = json.loads(params)
artifacts = json.loads(artifacts)
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
client = lambda name: boto3.client(name, **kw)

# 1. Package.
s3 = client("s3")
bucket = f"{stack.lower()}-artifacts"
s3.create_bucket(Bucket=bucket)
template, problems = decode_str(open(template_path).read())
if problems:
    sys.exit(f"template does not decode: {problems}")
for logical, path in artifacts.items():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, open(path, "rb").read())
    s3.put_object(Bucket=bucket, Key=f"{logical}.zip", Body=buf.getvalue())
    template["Resources"][logical]["Properties"]["CodeUri"] = f"s3://{bucket}/{logical}.zip"


# 2. Transform (no managed policies are looked up: the template names its own).
class NoManagedPolicies:
    def load(self):
        return {}


out = json.loads(json.dumps(transform(template, params, NoManagedPolicies()), default=str))


# 3. Fn::Cidr: [ipBlock, count, cidrBits] -> the first `count` subnets of /(32 - cidrBits).
def resolve_cidr(node, values):
    if isinstance(node, dict):
        if set(node) == {"Fn::Cidr"}:
            block, count, bits = node["Fn::Cidr"]
            if isinstance(block, dict) and "Ref" in block:
                block = values[block["Ref"]]
            net = ipaddress.ip_network(block)
            return [str(s) for s in list(net.subnets(new_prefix=net.max_prefixlen - int(bits)))[: int(count)]]
        return {k: resolve_cidr(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_cidr(v, values) for v in node]
    return node


values = {k: str(v.get("Default", "")) for k, v in out.get("Parameters", {}).items()}
values.update(params)
out = resolve_cidr(out, values)

# 4. Deploy and read back.
cf = client("cloudformation")
cf.create_stack(
    StackName=stack,
    TemplateBody=json.dumps(out),
    Capabilities=["CAPABILITY_IAM"],
    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
)
desc = cf.describe_stacks(StackName=stack)["Stacks"][0]
summaries = cf.list_stack_resources(StackName=stack)["StackResourceSummaries"]
created = {
    s["LogicalResourceId"]: {"type": s["ResourceType"], "physical": s.get("PhysicalResourceId"), "status": s["ResourceStatus"]}
    for s in summaries
    if s.get("LogicalResourceId")
}
report = {
    "status": desc["StackStatus"],
    "reason": desc.get("StackStatusReason"),
    "outputs": {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])},
    "resources": created,
    # [logical id, type, its Condition or null]
    "not_created": sorted(
        [k, v["Type"], v.get("Condition")] for k, v in out["Resources"].items() if k not in created
    ),
    "transformed_types": sorted({v["Type"] for v in out["Resources"].values()}),
    # What the template gives each function as Architectures (moto ignores the property).
    "architectures": {
        k: v["Properties"].get("Architectures")
        for k, v in out["Resources"].items()
        if v["Type"] == "AWS::Lambda::Function"
    },
    "parameters": {p["ParameterKey"]: p["ParameterValue"] for p in desc.get("Parameters", [])},
    "details": {},
}
d = report["details"]
lam = client("lambda")
for logical, r in created.items():
    if r["type"] == "AWS::Lambda::Function":
        c = lam.get_function(FunctionName=r["physical"])["Configuration"]
        d[logical] = {
            "runtime": c.get("Runtime"),
            "handler": c.get("Handler"),
            "architectures": c.get("Architectures"),
            "env": c.get("Environment", {}).get("Variables", {}),
            "code_size": c.get("CodeSize"),
            "timeout": c.get("Timeout"),
        }
if "MediaTaskDefinition" in created:
    ecs = client("ecs")
    td = ecs.describe_task_definition(taskDefinition=created["MediaTaskDefinition"]["physical"])["taskDefinition"]
    d["MediaTaskDefinition"] = json.loads(json.dumps(td, default=str))
    svc = ecs.describe_services(
        cluster=created["MediaCluster"]["physical"], services=[created["MediaService"]["physical"]]
    )["services"][0]
    d["MediaService"] = json.loads(json.dumps(svc, default=str))
    sg = client("ec2").describe_security_groups(GroupIds=[created["MediaSecurityGroup"]["physical"]])["SecurityGroups"][0]
    d["MediaSecurityGroup"] = sg["IpPermissions"]
s3 = client("s3")
bucket = created["AttachmentsBucket"]["physical"]
def bucket_part(get, key):
    # moto's CloudFormation skips some bucket properties (the public access block): null.
    try:
        return get(Bucket=bucket)[key]
    except s3.exceptions.ClientError:
        return None


d["AttachmentsBucket"] = {
    "encryption": bucket_part(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration"),
    "public_access": bucket_part(s3.get_public_access_block, "PublicAccessBlockConfiguration"),
    "cors": bucket_part(s3.get_bucket_cors, "CORSRules"),
    "lifecycle": bucket_part(s3.get_bucket_lifecycle_configuration, "Rules"),
}
table = client("dynamodb").describe_table(TableName=created["MainTable"]["physical"])["Table"]
d["MainTable"] = json.loads(json.dumps(table, default=str))
print(json.dumps(report))
