"""The Veritone simulator's GraphQL schema against the published production SDL.

Evidence: ``veritone-graphql-schema-2019-09.graphql`` in ``../shared/reference`` (veritone/docs,
``docs/apis/schema/v3/schema.graphql`` at commit 8c8b81e7). The reference folder is not part of
the project: without it these tests are skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    OperationDefinitionNode,
    build_schema,
    extend_schema,
    parse,
    validate,
)

from taskhub.adapters.veritone import documents
from taskhub.adapters.veritone.schema import schema as simulator_schema

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
PUBLISHED = REFERENCE / "veritone-graphql-schema-2019-09.graphql"

#: What later documentation adds to the 2019 SDL, the only differences the simulator may have.
#: Named in ../shared/reference/README.md: TaskStatus ``paused``, JobStatus ``failed``, createJob
#: ``routes`` / ``ioFolders`` / ``target`` (types and nullability are not published; these are
#: the simulator's reading of the documentation's examples).
README_ADDITIONS = """
extend enum TaskStatus { paused }
extend enum JobStatus { failed }
extend input CreateJob { target: CreateJobTarget routes: [CreateJobRoute!] }
extend input CreateTask { ioFolders: [CreateTaskIOFolder!] }
input CreateJobTarget { startDateTime: DateTime! stopDateTime: DateTime! name: String }
input CreateJobRoute {
  parentIoFolderReferenceId: String!
  childIoFolderReferenceId: String!
  options: JSON
}
input CreateTaskIOFolder { referenceId: String! mode: IOFolderMode! type: IOFolderType! }
enum IOFolderMode { stream chunk }
enum IOFolderType { input output }
"""
#: The rest of the aiWARE 3 createJob documentation (../shared/vendors/veritone.md section 4.1,
#: rows tagged [DOC]): CreateTask ``executionPreferences``, and the ``Task.ioFolders`` and
#: ``Job.routes`` its examples select.
DOC_ADDITIONS = """
extend input CreateTask { executionPreferences: TaskExecutionPreferences }
input TaskExecutionPreferences {
  parentCompleteBeforeStarting: Boolean
  priority: Int
  maxEngines: Int
}
extend type Task { ioFolders: [TaskIOFolder] }
type TaskIOFolder { referenceId: String type: IOFolderType mode: IOFolderMode }
extend type Job { routes: [JobRoute] }
type JobRoute { parentIoFolderReferenceId: String childIoFolderReferenceId: String options: JSON }
"""
ADDITIONS = README_ADDITIONS + DOC_ADDITIONS


@pytest.fixture(scope="module")
def published() -> GraphQLSchema:
    """The published SDL as it is."""
    if not PUBLISHED.is_file():
        pytest.skip(f"no published Veritone SDL at {PUBLISHED} (the reference folder is absent)")
    return build_schema(PUBLISHED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def documented(published: GraphQLSchema) -> GraphQLSchema:
    """The published SDL plus the listed later additions."""
    return extend_schema(published, parse(ADDITIONS))


def _named_types(schema: GraphQLSchema) -> dict[str, GraphQLNamedType]:
    return {
        name: t
        for name, t in schema.type_map.items()
        if not name.startswith("__") and name not in ("String", "Int", "Float", "Boolean", "ID")
    }


def _differences(ours: GraphQLNamedType, theirs: GraphQLNamedType) -> list[str]:
    """Where the simulator's type differs from the published one. Output types may leave out
    fields (a simulator serves what it simulates); every field they keep must have the
    published type and exactly the published arguments. Input types must have every field."""
    name = ours.name
    if type(ours) is not type(theirs):
        return [f"{name}: a {type(ours).__name__}, published as a {type(theirs).__name__}"]
    problems: list[str] = []
    if isinstance(ours, GraphQLEnumType):
        assert isinstance(theirs, GraphQLEnumType)
        if set(ours.values) != set(theirs.values):
            problems.append(
                f"{name}: values {sorted(ours.values)}, published {sorted(theirs.values)}"
            )
    elif isinstance(ours, (GraphQLObjectType, GraphQLInterfaceType)):
        assert isinstance(theirs, (GraphQLObjectType, GraphQLInterfaceType))
        mine = sorted(i.name for i in ours.interfaces)
        published = sorted(i.name for i in theirs.interfaces)
        if mine != published:
            problems.append(f"{name}: implements {mine}, published {published}")
        for field_name, field in ours.fields.items():
            where = f"{name}.{field_name}"
            other = theirs.fields.get(field_name)
            if other is None:
                problems.append(f"{where}: not in the published SDL")
                continue
            if str(field.type) != str(other.type):
                problems.append(f"{where}: {field.type}, published {other.type}")
            if set(field.args) != set(other.args):
                problems.append(
                    f"{where}: arguments {sorted(field.args)}, published {sorted(other.args)}"
                )
            for arg_name, arg in field.args.items():
                published_arg = other.args.get(arg_name)
                if published_arg is None:
                    continue
                if str(arg.type) != str(published_arg.type):
                    problems.append(
                        f"{where}({arg_name}): {arg.type}, published {published_arg.type}"
                    )
                if arg.default_value != published_arg.default_value:
                    problems.append(
                        f"{where}({arg_name}): default {arg.default_value!r}, "
                        f"published {published_arg.default_value!r}"
                    )
    elif isinstance(ours, GraphQLInputObjectType):
        assert isinstance(theirs, GraphQLInputObjectType)
        if set(ours.fields) != set(theirs.fields):
            problems.append(
                f"{name}: fields missing {sorted(set(theirs.fields) - set(ours.fields))}, "
                f"unpublished {sorted(set(ours.fields) - set(theirs.fields))}"
            )
        for field_name, field in ours.fields.items():
            other_input = theirs.fields.get(field_name)
            if other_input is None:
                continue
            where = f"{name}.{field_name}"
            if str(field.type) != str(other_input.type):
                problems.append(f"{where}: {field.type}, published {other_input.type}")
            if field.default_value != other_input.default_value:
                problems.append(
                    f"{where}: default {field.default_value!r}, "
                    f"published {other_input.default_value!r}"
                )
    elif isinstance(ours, GraphQLUnionType):
        assert isinstance(theirs, GraphQLUnionType)
        if {t.name for t in ours.types} != {t.name for t in theirs.types}:
            problems.append(f"{name}: members differ")
    else:
        assert isinstance(ours, GraphQLScalarType)
    return problems


def test_every_simulator_type_is_the_published_one(documented: GraphQLSchema) -> None:
    """Names, kinds, field types, argument lists, defaults and enum values of every type the
    simulator defines equal the published SDL's, the listed later additions aside."""
    theirs = _named_types(documented)
    problems: list[str] = []
    for name, ours in sorted(_named_types(simulator_schema()).items()):
        other = theirs.get(name)
        if other is None:
            problems.append(f"{name}: not in the published SDL")
        else:
            problems.extend(_differences(ours, other))
    assert problems == []


def _listed(additions: DocumentNode) -> set[str]:
    """``Type`` for each added type, ``Type.member`` for each added field or enum value."""
    found: set[str] = set()
    for node in additions.definitions:
        if isinstance(
            node,
            (EnumTypeDefinitionNode, ObjectTypeDefinitionNode, InputObjectTypeDefinitionNode),
        ):
            found.add(node.name.value)
        elif isinstance(node, EnumTypeExtensionNode):
            found |= {f"{node.name.value}.{v.name.value}" for v in node.values or ()}
        elif isinstance(node, (ObjectTypeExtensionNode, InputObjectTypeExtensionNode)):
            found |= {f"{node.name.value}.{f.name.value}" for f in node.fields or ()}
    return found


def _members(schema: GraphQLSchema, item: str) -> bool:
    name, _, member = item.partition(".")
    t = schema.type_map.get(name)
    if t is None or not member:
        return t is not None
    if isinstance(t, GraphQLEnumType):
        return member in t.values
    if isinstance(t, (GraphQLObjectType, GraphQLInputObjectType)):
        return member in t.fields
    return False


def test_the_listed_additions_are_later_ones_and_all_simulated(published: GraphQLSchema) -> None:
    """Each listed difference is absent from the 2019 SDL (the list is not stale) and present
    in the simulator (the list is not wider than what it serves)."""
    listed = _listed(parse(ADDITIONS))
    assert {"TaskStatus.paused", "JobStatus.failed", "CreateJob.routes"} <= listed
    assert {"CreateJob.target", "CreateTask.ioFolders"} <= listed
    ours = simulator_schema()
    assert sorted(i for i in listed if _members(published, i)) == []
    assert sorted(i for i in listed if not _members(ours, i)) == []


def _operations() -> dict[str, str]:
    """Every GraphQL operation in adapters/veritone/documents.py (fragments come along)."""
    found = {
        name: text
        for name, text in vars(documents).items()
        if name.isupper()
        and isinstance(text, str)
        and any(text.lstrip().startswith(k) for k in ("query", "mutation"))
    }
    assert len(found) >= 8, found
    return found


@pytest.mark.parametrize("name", sorted(_operations()))
def test_every_document_the_adapter_sends_validates_against_the_published_sdl(
    name: str, documented: GraphQLSchema
) -> None:
    """The adapter's documents are valid against the published SDL plus the listed additions
    (and so would be accepted by the production server), not only against the simulator."""
    document = parse(_operations()[name])
    assert [e.message for e in validate(documented, document)] == []
    assert [e.message for e in validate(simulator_schema(), document)] == []


@pytest.mark.parametrize("count", [1, 3, 100, documents.BATCH_MOST])
def test_the_batched_job_reads_validate_against_the_published_sdl(
    count: int, documented: GraphQLSchema
) -> None:
    """``refresh`` reads many jobs in one document, each under an alias of its own: valid
    against the published SDL, and against the simulator's schema."""
    document = parse(documents.job_batch(count))
    assert [e.message for e in validate(documented, document)] == []
    assert [e.message for e in validate(simulator_schema(), document)] == []
    aliases = [
        s.alias.value if s.alias else None
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        for s in d.selection_set.selections
        if isinstance(s, FieldNode)
    ]
    assert aliases == [f"j{n}" for n in range(count)]


def test_a_batch_is_bounded() -> None:
    with pytest.raises(ValueError, match="a batch reads 1 to"):
        documents.job_batch(documents.BATCH_MOST + 1)
    with pytest.raises(ValueError, match="a batch reads 1 to"):
        documents.job_batch(0)
