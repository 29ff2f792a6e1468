"""Issue 11's leftovers of item 1: user-defined field info, who-is-calling stamps on the generic store,
the current principal's user, and Selection basics -- through soapkit against a sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

import soapkit
from soapkit.sandbox import Sandbox
from soapkit.sandbox.seed import USER_DEFINED_FIELDS, USER_DEFINED_LISTS


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(data_dir=tmp_path_factory.mktemp("leftovers"), port=0) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def so(sb: Sandbox) -> Iterator[Any]:
    cfg = sb.config
    with soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                         ticket=sb.issue_ticket()) as client:
        yield client


# --- UserDefinedFieldInfo -----------------------------------------------------------------------

def test_udf_lists_per_owner(so: Any) -> None:
    udf = so.UserDefinedFieldInfoAgent
    contact = udf.GetUserDefinedFieldList(OwnerType="Contact")
    assert [f.ProgId for f in contact] == [r[2] for r in USER_DEFINED_FIELDS if r[1] == "Contact"]
    assert {f.Type for f in contact} == {"Contact"}
    person = udf.GetPublishedUserDefinedFieldList(OwnerType="Person")
    assert [f.FieldLabel for f in person] == [r[3] for r in USER_DEFINED_FIELDS if r[1] == "Person"]
    assert udf.GetUserDefinedFieldList(OwnerType="Sale") == []


def test_udf_lookups(so: Any) -> None:
    udf = so.UserDefinedFieldInfoAgent
    field = udf.GetUserDefinedFieldFromProgId(ProgId="superoffice:4", OwnerType="Contact")
    assert (field.UDefFieldId, field.FieldLabel, field.FieldType, field.UDListDefinitionId) == (4, "Tier", "List", 1)
    assert udf.GetUserDefinedFieldFromProgId(ProgId="SuperOffice:4", OwnerType="Person") is None
    assert udf.GetPublishedUserDefinedFieldFromFieldLabel(FieldLabel="shoe size", OwnerType="Person").ProgId == \
        "SuperOffice:6"
    assert [f.UDefFieldId for f in udf.GetUserDefinedFieldFromProgIds(
        ProgIds=["SuperOffice:3", "SuperOffice:99", "SuperOffice:1"], OwnerType="Contact")] == [3, 1]
    assert [f.ProgId for f in udf.GetUserDefinedFieldFromIds(Ids=[8, 2, 42])] == ["SuperOffice:8", "SuperOffice:2"]
    assert udf.GetUserDefinedFieldInfo(7).FieldType == "LongText"
    assert udf.GetUserDefinedFieldInfo(99) is None
    assert udf.IsPublishEventActive(Type="Contact") is False


def test_list_fields_match_mdo_udlist(so: Any) -> None:
    for field in so.UserDefinedFieldInfoAgent.GetUserDefinedFieldList(OwnerType="Person"):
        if field.FieldType != "List":
            continue
        items = so.MDOAgent.GetList(Name=field.MdoListName, ForceFlatList=True,
                                    AdditionalInfo=str(field.UDListDefinitionId), OnlyHistory=False)
        assert [i.Name for i in items] == USER_DEFINED_LISTS[field.UDListDefinitionId]
    assert [i.Name for i in so.MDOAgent.GetList(Name="udlist1", ForceFlatList=True, AdditionalInfo="",
                                                OnlyHistory=False)] == USER_DEFINED_LISTS[1]
    with pytest.raises(soapkit.SoapkitError, match="UDListDefinitionIds"):
        so.MDOAgent.GetList(Name="udlist", ForceFlatList=True, AdditionalInfo="77", OnlyHistory=False)


# --- created/updated on save -------------------------------------------------------------------

def test_generic_save_stamps_created_and_updated(sb: Sandbox, so: Any) -> None:
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(seconds=1)
    sale = so.SaleAgent.CreateDefaultSaleEntity()
    sale.Heading = "Stamped"
    created = so.SaleAgent.SaveSaleEntity(sale)
    assert created.CreatedDate.replace(tzinfo=None) >= before
    assert created.CreatedBy.AssociateId == 1
    assert created.UpdatedDate.year == 1 and created.UpdatedBy is None
    created.Heading = "Stamped again"
    updated = so.SaleAgent.SaveSaleEntity(created)
    assert updated.CreatedDate == created.CreatedDate
    assert updated.CreatedBy.AssociateId == 1
    assert updated.UpdatedDate.replace(tzinfo=None) >= before
    assert updated.UpdatedBy.AssociateId == 1
    # a client cannot rewrite when it was created
    updated.CreatedDate = dt.datetime(2001, 1, 1)
    assert so.SaleAgent.SaveSaleEntity(updated).CreatedDate == created.CreatedDate


# --- users: the principal and the others --------------------------------------------------------

def test_the_calling_principal_and_its_user(sb: Sandbox, so: Any) -> None:
    cfg = sb.config
    ticket = sb.issue_ticket(associate_id=2)
    with soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                         ticket=ticket) as eva:
        principal = eva.SoPrincipalAgent.AuthenticateWithAccessToken(AccessToken=ticket)
        assert (principal.AssociateId, principal.Associate, principal.FullName) == (2, "EVA", "Eva Andersen")
        assert eva.UserAgent.GetUser(principal.AssociateId).UserName == principal.Associate
        user = eva.UserAgent.GetUser(2)
        assert (user.AssociateId, user.UserName, user.Type, user.UserGroup.Id) == (2, "EVA", "InternalAssociate", 1)
        assert eva.UserAgent.GetUserFromName(UserName="johan").AssociateId == 3
        assert eva.UserAgent.GetUserFromName(UserName="nobody") is None
        assert eva.UserAgent.GetUser(99) is None
        info = eva.UserAgent.GetUserInfo(1)
        assert (info.UserInfoId, info.UserType, info.RoleName) == (1, "SystemAssociate", "System")
        assert [i.UserName for i in eva.UserAgent.GetUserInfoList(UserInfoIds=[3, 42, 2])] == ["JOHAN", "EVA"]
        assert [a.AssociateId for a in eva.AssociateAgent.GetAssociatesByGroup(GroupId=1, Type=0)] == [1, 2]
        assert eva.AssociateAgent.GetAssociateByPersonId(1) is None


# --- Selection basics ---------------------------------------------------------------------------

def test_static_selection_members(so: Any) -> None:
    agent = so.SelectionAgent
    selection = agent.CreateDefaultSelectionEntity()
    selection.Name = "Newsletter, spring"
    selection.SelectionType = "Static"
    saved = agent.SaveSelectionEntity(selection)
    selection_id = saved.SelectionId
    assert selection_id > 0 and saved.MemberCount == 0 and saved.CreatedBy.AssociateId == 1
    agent.AddContactSelectionMembers(SelectionId=selection_id, ContactPersonIds=[
        {"ContactId": 1, "PersonId": 0}, {"ContactId": 0, "PersonId": 3}, {"ContactId": 1, "PersonId": 0}])
    read = agent.GetSelectionEntity(selection_id)
    assert (read.Name, read.SelectionType, read.MemberCount) == ("Newsletter, spring", "Static", 2)
    assert read.LastMembershipChangeBy == 1
    rows = agent.GetSelectionMembersArchiveRows(SelectionId=selection_id, Select="contactId,name")
    assert [(r.EntityName, r.PrimaryKey) for r in rows] == [("contact", 1), ("person", 3)]
    columns = {pair.Key: pair.Value.DisplayValue for pair in rows[1].ColumnData}
    assert columns["contactId"] == "[I:2]" and not columns["name"]   # person 3 is at company 2; name: companies only
    agent.RemoveContactSelectionMembers(SelectionId=selection_id, ContactPersonIds=[{"ContactId": 1, "PersonId": 0}])
    assert agent.GetSelectionEntity(selection_id).MemberCount == 1

    with pytest.raises(soapkit.SoapkitError, match="Person 999 does not exist"):
        agent.AddContactSelectionMembers(SelectionId=selection_id, ContactPersonIds=[{"ContactId": 0, "PersonId": 999}])
    with pytest.raises(soapkit.SoapkitError, match="Selection 4242 does not exist"):
        agent.AddSelectionMembers(SelectionId=4242, Ids=[1])


def test_selection_of_plain_ids(so: Any) -> None:
    agent = so.SelectionAgent
    selection = agent.CreateDefaultSelectionEntity()
    selection.Name = "Sales to follow up"
    selection_id = agent.SaveSelectionEntity(selection).SelectionId
    assert agent.AddSelectionMembers(SelectionId=selection_id, Ids=[5, 6, 5]) == 2
    assert agent.AddSelectionMembers(SelectionId=selection_id, Ids=[6, 7]) == 1
    agent.RemoveSelectionMembersById(SelectionId=selection_id, Ids=[5])
    assert agent.GetSelectionEntity(selection_id).MemberCount == 2
    agent.DeleteSelectionEntity(selection_id)
    assert agent.GetSelectionEntity(selection_id) is None
    with pytest.raises(soapkit.SoapkitError, match="EntityNotFoundException"):
        agent.DeleteSelectionEntity(selection_id)
    with pytest.raises(soapkit.SoapkitError, match="does not exist"):
        agent.AddSelectionMembers(SelectionId=selection_id, Ids=[1])


def test_udf_list_of_an_unknown_field_is_a_configuration_error(so: Any) -> None:
    with pytest.raises(soapkit.ConfigurationError, match="no user-defined field 'SuperOffice:999'"):
        so.udf_list("SuperOffice:999")
